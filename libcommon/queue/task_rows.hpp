// Reading task rows: the column list and loaders shared by the task store's writes and its queries.
// Internal to queue/.
#pragma once

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

#include <optional>
#include <string>

#include "queue/task.hpp"

namespace oos::queue::rows {

// Columns read by read_task(), in order.
#define OOS_TASK_COLUMNS                                                                                  \
  "id, queue, type, payload, status, priority, run_at, attempts, max_attempts, unique_key, lease_owner, " \
  "lease_expires_at, last_error, result, replays, created_at, updated_at, finished_at"

inline std::optional<std::string> opt_text(const SQLite::Column& c) {
  return c.isNull() ? std::nullopt : std::optional<std::string>(c.getString());
}
inline std::optional<std::int64_t> opt_int(const SQLite::Column& c) {
  return c.isNull() ? std::nullopt : std::optional<std::int64_t>(c.getInt64());
}
inline void bind_opt(SQLite::Statement& q, int index, const std::optional<std::string>& value) {
  if (value)
    q.bind(index, *value);
  else
    q.bind(index);
}

// "?F, ?F+1, ..." for `count` parameters, for an IN list. Lists are spelled out rather than bound as
// IN (subquery): SQLite builds an ephemeral table for every run of the latter.
inline std::string placeholders(int first, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) out += (i ? ", ?" : "?") + std::to_string(first + static_cast<int>(i));
  return out;
}

inline Task read_task(SQLite::Statement& q) {
  Task t;
  t.id = q.getColumn(0).getInt64();
  t.queue = q.getColumn(1).getString();
  t.type = q.getColumn(2).getString();
  t.payload = q.getColumn(3).getString();
  t.status = parse_task_status(q.getColumn(4).getString()).value_or(TaskStatus::pending);
  t.priority = q.getColumn(5).getInt();
  t.run_at = q.getColumn(6).getInt64();
  t.attempts = q.getColumn(7).getInt();
  t.max_attempts = q.getColumn(8).getInt();
  t.unique_key = opt_text(q.getColumn(9));
  t.lease_owner = opt_text(q.getColumn(10));
  t.lease_expires_at = opt_int(q.getColumn(11));
  t.last_error = opt_text(q.getColumn(12));
  t.result = opt_text(q.getColumn(13));
  t.replays = q.getColumn(14).getInt();
  t.created_at = q.getColumn(15).getInt64();
  t.updated_at = q.getColumn(16).getInt64();
  t.finished_at = opt_int(q.getColumn(17));
  return t;
}

}  // namespace oos::queue::rows
