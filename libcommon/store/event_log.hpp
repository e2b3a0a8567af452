// The audit log (docs/reference.md section 14) as the tools that run on both backends write and read it: the
// `events` table of the state database, SQLite's or the shared PostgreSQL's. SqliteEventLog (db/events) and
// pg::PgEventLog (pg/events) implement it.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "util/time.hpp"

namespace oos::store {

class EventLog {
 public:
  virtual ~EventLog() = default;

  // Appends an event in a write transaction of its own, for a tool whose action is not a database write (a
  // cleanup run, a scaling change, a job's failure).
  virtual void record(util::UnixMillis at, std::string_view kind, std::string_view object, std::string_view detail) = 0;

  // When the newest event of `kind` (about `object`, when given) happened; nullopt when there is none.
  virtual std::optional<util::UnixMillis> last_at(std::string_view kind, std::optional<std::string_view> object) = 0;

  // How many events of `kind` (about `object`, when given) there are (events are never purged, so this only grows).
  virtual std::int64_t count(std::string_view kind, std::optional<std::string_view> object) = 0;
};

}  // namespace oos::store
