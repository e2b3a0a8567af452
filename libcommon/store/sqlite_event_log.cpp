#include "store/sqlite_event_log.hpp"

#include "db/events.hpp"

namespace oos::store {

void SqliteEventLog::record(util::UnixMillis at, std::string_view kind, std::string_view object,
                            std::string_view detail) {
  db::record_event_alone(m_db, at, kind, object, detail);
}

std::optional<util::UnixMillis> SqliteEventLog::last_at(std::string_view kind, std::optional<std::string_view> object) {
  return db::last_event_at(m_db, kind, object);
}

std::int64_t SqliteEventLog::count(std::string_view kind, std::optional<std::string_view> object) {
  return db::count_events(m_db, kind, object);
}

}  // namespace oos::store
