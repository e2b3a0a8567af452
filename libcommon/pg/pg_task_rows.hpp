// Reading task rows of PostgreSQL results (columns OOS_PG_TASK_COLUMNS of task_sql.hpp). Internal to pg/.
#pragma once

#include <string>

#include "pg/connection.hpp"
#include "pg/task_sql.hpp"
#include "pg/values.hpp"
#include "queue/task.hpp"

namespace oos::pg::rows {

inline queue::Task read_task(const Result& r, int row) {
  queue::Task t;
  t.id = int_at(r, row, 0);
  t.queue = std::string(r.text(row, 1));
  t.type = std::string(r.text(row, 2));
  t.payload = std::string(r.text(row, 3));
  t.status = queue::parse_task_status(r.text(row, 4)).value_or(queue::TaskStatus::pending);
  t.priority = static_cast<int>(int_at(r, row, 5));
  t.run_at = int_at(r, row, 6);
  t.attempts = static_cast<int>(int_at(r, row, 7));
  t.max_attempts = static_cast<int>(int_at(r, row, 8));
  t.unique_key = r.value(row, 9);
  t.lease_owner = r.value(row, 10);
  t.lease_expires_at = opt_int_at(r, row, 11);
  t.last_error = r.value(row, 12);
  t.result = r.value(row, 13);
  t.replays = static_cast<int>(int_at(r, row, 14));
  t.created_at = int_at(r, row, 15);
  t.updated_at = int_at(r, row, 16);
  t.finished_at = opt_int_at(r, row, 17);
  return t;
}

inline std::vector<queue::Task> read_tasks(const Result& r) {
  std::vector<queue::Task> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_task(r, i));
  return out;
}

}  // namespace oos::pg::rows
