#include "db/events.hpp"

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

std::optional<util::UnixMillis> last_event_at(Database& db, std::string_view kind) {
  auto q = db.query("SELECT max(at) FROM events WHERE kind = ?");
  q->bind(1, std::string(kind));
  if (!q->executeStep() || q->getColumn(0).isNull()) return std::nullopt;
  return util::UnixMillis{q->getColumn(0).getInt64()};
}

std::int64_t count_events(Database& db, std::string_view kind) {
  auto q = db.query("SELECT count(*) FROM events WHERE kind = ?");
  q->bind(1, std::string(kind));
  q->executeStep();
  return q->getColumn(0).getInt64();
}

}  // namespace oos::db
