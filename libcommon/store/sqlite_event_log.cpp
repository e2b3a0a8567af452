#include "store/sqlite_event_log.hpp"

#include <string>

#include "db/events.hpp"

namespace oos::store {
namespace {

void bind_object(SQLite::Statement& q, std::optional<std::string_view> object) {
  if (object)
    q.bind(2, std::string(*object));
  else
    q.bind(2);
}

}  // namespace

void SqliteEventLog::record(util::UnixMillis at, std::string_view kind, std::string_view object,
                            std::string_view detail) {
  db::record_event_alone(m_db, at, kind, object, detail);
}

std::optional<util::UnixMillis> SqliteEventLog::last_at(std::string_view kind, std::optional<std::string_view> object) {
  auto q = m_db.query("SELECT max(at) FROM events WHERE kind = ?1 AND (?2 IS NULL OR object = ?2)");
  q->bind(1, std::string(kind));
  bind_object(*q, object);
  if (!q->executeStep() || q->getColumn(0).isNull()) return std::nullopt;
  return util::UnixMillis{q->getColumn(0).getInt64()};
}

std::int64_t SqliteEventLog::count(std::string_view kind, std::optional<std::string_view> object) {
  auto q = m_db.query("SELECT count(*) FROM events WHERE kind = ?1 AND (?2 IS NULL OR object = ?2)");
  q->bind(1, std::string(kind));
  bind_object(*q, object);
  q->executeStep();
  return q->getColumn(0).getInt64();
}

}  // namespace oos::store
