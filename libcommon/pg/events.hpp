// The audit log on PostgreSQL: the `events` table of pg/schema, as db/events.hpp is on SQLite (docs/reference.md
// section 14). Written inside the caller's transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "pg/connection.hpp"
#include "util/time.hpp"

namespace oos::pg {

// Appends an event; `kind` is a dotted name such as "breaker.open", `object` what it concerns ("queue/default",
// "task/42"), `detail` free text.
void record_event(Connection& connection, util::UnixMillis at, std::string_view kind, std::string_view object,
                  std::string_view detail);

// How many events of `kind` there are.
std::int64_t count_events(Connection& connection, std::string_view kind);

}  // namespace oos::pg
