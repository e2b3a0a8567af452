// The audit log on PostgreSQL: the `events` table of pg/schema, as db/events.hpp is on SQLite (docs/reference.md
// section 14). Written inside the caller's transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "pg/connection.hpp"
#include "store/event_log.hpp"
#include "util/time.hpp"

namespace oos::pg {

// Appends an event; `kind` is a dotted name such as "breaker.open", `object` what it concerns ("queue/default",
// "task/42"), `detail` free text.
void record_event(Connection& connection, util::UnixMillis at, std::string_view kind, std::string_view object,
                  std::string_view detail);

// How many events of `kind` there are.
std::int64_t count_events(Connection& connection, std::string_view kind);

// When the newest event of `kind` (about `object`, when given) happened; nullopt when there is none.
std::optional<util::UnixMillis> last_event_at(Connection& connection, std::string_view kind,
                                              std::optional<std::string_view> object = std::nullopt);

// How many events of `kind` about `object` there are.
std::int64_t count_events(Connection& connection, std::string_view kind, std::string_view object);

// store::EventLog on the shared database: each record() a statement of its own (autocommitted).
class PgEventLog final : public store::EventLog {
 public:
  explicit PgEventLog(Connection& connection) : m_connection(connection) {}

  void record(util::UnixMillis at, std::string_view kind, std::string_view object, std::string_view detail) override {
    record_event(m_connection, at, kind, object, detail);
  }
  std::optional<util::UnixMillis> last_at(std::string_view kind, std::optional<std::string_view> object) override {
    return last_event_at(m_connection, kind, object);
  }
  std::int64_t count(std::string_view kind, std::optional<std::string_view> object) override {
    return object ? count_events(m_connection, kind, *object) : count_events(m_connection, kind);
  }

 private:
  Connection& m_connection;
};

}  // namespace oos::pg
