// Reading task rows of PostgreSQL results (columns OOS_PG_TASK_COLUMNS of task_sql.hpp). Internal to pg/.
#pragma once

#include <string>

#include "pg/connection.hpp"
#include "pg/task_sql.hpp"
#include "pg/values.hpp"
#include "queue/task.hpp"

namespace oos::pg::rows {

// The task in the columns of OOS_PG_TASK_COLUMNS from `first` of `row`.
inline queue::Task read_task(const Result& r, int row, int first = 0) {
  queue::Task t;
  t.id = int_at(r, row, first);
  t.queue = std::string(r.text(row, first + 1));
  t.type = std::string(r.text(row, first + 2));
  t.payload = std::string(r.text(row, first + 3));
  t.status = queue::parse_task_status(r.text(row, first + 4)).value_or(queue::TaskStatus::pending);
  t.priority = static_cast<int>(int_at(r, row, first + 5));
  t.run_at = int_at(r, row, first + 6);
  t.attempts = static_cast<int>(int_at(r, row, first + 7));
  t.max_attempts = static_cast<int>(int_at(r, row, first + 8));
  t.unique_key = r.value(row, first + 9);
  t.lease_owner = r.value(row, first + 10);
  t.lease_expires_at = opt_int_at(r, row, first + 11);
  t.last_error = r.value(row, first + 12);
  t.result = r.value(row, first + 13);
  t.replays = static_cast<int>(int_at(r, row, first + 14));
  t.created_at = int_at(r, row, first + 15);
  t.updated_at = int_at(r, row, first + 16);
  t.finished_at = opt_int_at(r, row, first + 17);
  return t;
}

inline std::vector<queue::Task> read_tasks(const Result& r) {
  std::vector<queue::Task> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_task(r, i));
  return out;
}

}  // namespace oos::pg::rows
