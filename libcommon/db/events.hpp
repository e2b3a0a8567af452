// The audit log: one row in `events` per operator-visible state change (requeues, pauses, breaker
// transitions, backups, ...). Written inside the caller's transaction, or in one of its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "db/database.hpp"
#include "util/time.hpp"

namespace oos::db {

// Appends an event; `kind` is a dotted name such as "breaker.open", `object` what it concerns
// ("queue/default", "task/42"), `detail` free text.
void record_event(Database& db, util::UnixMillis at, std::string_view kind, std::string_view object,
                  std::string_view detail);

// record_event() in a write transaction of its own, for a tool whose action is not a database write
// (a backup, an integrity check, a cleanup run).
void record_event_alone(Database& db, util::UnixMillis at, std::string_view kind, std::string_view object,
                        std::string_view detail);

// When the newest event of `kind` (about `object`, when given) happened; nullopt when there is none.
std::optional<util::UnixMillis> last_event_at(Database& db, std::string_view kind,
                                              std::optional<std::string_view> object = std::nullopt);

// How many events of `kind` (about `object`, when given) there are.
std::int64_t count_events(Database& db, std::string_view kind, std::optional<std::string_view> object = std::nullopt);

}  // namespace oos::db
