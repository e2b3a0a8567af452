// EventLog on the state directory's SQLite file (db/events).
#pragma once

#include "db/database.hpp"
#include "store/event_log.hpp"

namespace oos::store {

class SqliteEventLog final : public EventLog {
 public:
  explicit SqliteEventLog(db::Database& db) : m_db(db) {}

  void record(util::UnixMillis at, std::string_view kind, std::string_view object, std::string_view detail) override;
  std::optional<util::UnixMillis> last_at(std::string_view kind, std::optional<std::string_view> object) override;
  std::int64_t count(std::string_view kind, std::optional<std::string_view> object) override;

 private:
  db::Database& m_db;
};

}  // namespace oos::store
