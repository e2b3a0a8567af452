#include "db/events.hpp"

#include <string>

namespace oos::db {

void record_event(Database& db, util::UnixMillis at, std::string_view kind, std::string_view object,
                  std::string_view detail) {
  auto q = db.query("INSERT INTO events (at, kind, object, detail) VALUES (?, ?, ?, ?)");
  q->bind(1, static_cast<std::int64_t>(at));
  q->bind(2, std::string(kind));
  q->bind(3, std::string(object));
  q->bind(4, std::string(detail));
  q->exec();
}

void record_event_alone(Database& db, util::UnixMillis at, std::string_view kind, std::string_view object,
                        std::string_view detail) {
  WriteTransaction tx(db);
  record_event(db, at, kind, object, detail);
  tx.commit();
}

namespace {

// ?1 the kind, ?2 the object or NULL for any.
void bind_kind_and_object(SQLite::Statement& q, std::string_view kind, std::optional<std::string_view> object) {
  q.bind(1, std::string(kind));
  if (object)
    q.bind(2, std::string(*object));
  else
    q.bind(2);
}

}  // namespace

std::optional<util::UnixMillis> last_event_at(Database& db, std::string_view kind,
                                              std::optional<std::string_view> object) {
  auto q = db.query("SELECT max(at) FROM events WHERE kind = ?1 AND (?2 IS NULL OR object = ?2)");
  bind_kind_and_object(*q, kind, object);
  if (!q->executeStep() || q->getColumn(0).isNull()) return std::nullopt;
  return util::UnixMillis{q->getColumn(0).getInt64()};
}

std::int64_t count_events(Database& db, std::string_view kind, std::optional<std::string_view> object) {
  auto q = db.query("SELECT count(*) FROM events WHERE kind = ?1 AND (?2 IS NULL OR object = ?2)");
  bind_kind_and_object(*q, kind, object);
  q->executeStep();
  return q->getColumn(0).getInt64();
}

}  // namespace oos::db
