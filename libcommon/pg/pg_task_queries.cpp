// The read side of PgTaskStore: the next due task, runnable counts, single tasks, attempt history and listings.
#include <limits>

#include "pg/pg_breaker_store.hpp"
#include "pg/pg_task_rows.hpp"
#include "pg/pg_task_store.hpp"
#include "pg/values.hpp"

namespace oos::pg {

namespace {

// The highest id a listing that stops before `before` may return (every id without it).
std::int64_t highest_below(std::optional<queue::TaskId> before) {
  return before ? *before - 1 : std::numeric_limits<std::int64_t>::max();
}

// LIMIT's parameter: NULL (no limit) for a negative `limit`.
Param limit_param(std::int64_t limit) {
  return limit < 0 ? std::nullopt : Param(std::to_string(limit));
}

}  // namespace

std::optional<util::UnixMillis> PgTaskStore::next_run_at(std::span<const std::string> queues) {
  auto eligible = admitted_queues(queues, m_clock.now(), nullptr);
  if (eligible.empty()) return std::nullopt;
  return opt_int_at(m_connection.exec_params("SELECT min(run_at) FROM tasks WHERE status = 'pending' AND queue = "
                                             "ANY($1::text[]) AND queue NOT IN (SELECT name FROM queues WHERE paused)",
                                             {text_array(eligible)}),
                    0, 0);
}

std::int64_t PgTaskStore::runnable_count(std::span<const std::string> queues) {
  if (queues.empty()) return 0;
  return int_at(m_connection.exec_params("SELECT count(*) FROM tasks WHERE status = 'pending' AND queue = "
                                         "ANY($1::text[]) AND run_at <= $2",
                                         {text_array(queues), param(m_clock.now())}),
                0, 0);
}

std::optional<queue::Task> PgTaskStore::find(queue::TaskId id) {
  const Result r = m_connection.exec_params("SELECT " OOS_PG_TASK_COLUMNS " FROM tasks WHERE id = $1", {param(id)});
  if (r.rows() == 0) return std::nullopt;
  return rows::read_task(r, 0);
}

bool PgTaskStore::holds(const queue::Lease& lease) {
  const Result r = m_connection.exec_params(
      "SELECT 1 FROM tasks WHERE id = $1 AND status = 'running' AND lease_token = $2 AND lease_expires_at >= $3",
      {param(lease.task_id), lease.token, param(m_clock.now())});
  return r.rows() == 1;
}

std::vector<queue::Attempt> PgTaskStore::attempts(queue::TaskId id) {
  const Result r = m_connection.exec_params(
      "SELECT attempt, worker, started_at, ended_at, outcome, exit_code, error, replay FROM task_attempts "
      "WHERE task_id = $1 ORDER BY run",
      {param(id)});
  std::vector<queue::Attempt> out;
  for (int i = 0; i < r.rows(); ++i) {
    queue::Attempt a;
    a.attempt = static_cast<int>(int_at(r, i, 0));
    a.worker = r.value(i, 1);
    a.started_at = opt_int_at(r, i, 2);
    a.ended_at = int_at(r, i, 3);
    a.outcome = std::string(r.text(i, 4));
    if (auto code = opt_int_at(r, i, 5)) a.exit_code = static_cast<int>(*code);
    a.error = r.value(i, 6);
    a.replay = static_cast<int>(int_at(r, i, 7));
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<queue::Task> PgTaskStore::list(const std::string& queue, std::optional<queue::TaskStatus> status,
                                           std::int64_t limit, std::optional<queue::TaskId> before) {
  return rows::read_tasks(
      m_connection.exec_params("SELECT " OOS_PG_TASK_COLUMNS
                               " FROM tasks WHERE queue = $1 AND ($2::text IS NULL OR status = $2::text) "
                               "AND id <= $4 ORDER BY id DESC LIMIT $3",
                               {queue, status ? Param(std::string(to_string(*status))) : std::nullopt,
                                limit_param(limit), param(highest_below(before))}));
}

// The dead tasks a DeadFilter selects, its fields in $1 (queue), $2 (type) and $3 (error_match).
#define OOS_PG_DEAD_MATCHING                                                                                  \
  "status = 'dead' AND ($1::text IS NULL OR queue = $1::text) AND ($2::text IS NULL OR type = $2::text) AND " \
  "($3::text IS NULL OR strpos(coalesce(last_error, ''), $3::text) > 0)"

std::vector<queue::Task> PgTaskStore::select_dead(const queue::DeadFilter& filter, std::int64_t limit,
                                                  std::optional<queue::TaskId> before, bool lock) {
  const std::string sql = std::string("SELECT " OOS_PG_TASK_COLUMNS " FROM tasks WHERE " OOS_PG_DEAD_MATCHING
                                      " AND id <= $5 ORDER BY id DESC LIMIT $4") +
                          (lock ? " FOR UPDATE" : "");
  return rows::read_tasks(m_connection.exec_params(
      sql, {filter.queue, filter.type, filter.error_match, limit_param(limit), param(highest_below(before))}));
}

std::int64_t PgTaskStore::count_dead(const queue::DeadFilter& filter) {
  return int_at(m_connection.exec_params("SELECT count(*) FROM tasks WHERE " OOS_PG_DEAD_MATCHING,
                                         {filter.queue, filter.type, filter.error_match}),
                0, 0);
}

std::vector<queue::Task> PgTaskStore::dead_with_unique_keys(const queue::DeadFilter& filter) {
  const Result r = m_connection.exec_params("SELECT id, queue, unique_key FROM tasks WHERE " OOS_PG_DEAD_MATCHING
                                            " AND unique_key IS NOT NULL ORDER BY id DESC",
                                            {filter.queue, filter.type, filter.error_match});
  std::vector<queue::Task> out;
  for (int i = 0; i < r.rows(); ++i) {
    queue::Task task;
    task.id = int_at(r, i, 0);
    task.queue = std::string(r.text(i, 1));
    task.unique_key = std::string(r.text(i, 2));
    task.status = queue::TaskStatus::dead;
    out.push_back(std::move(task));
  }
  return out;
}

std::vector<queue::Task> PgTaskStore::list_dead(const queue::DeadFilter& filter, std::int64_t limit,
                                                std::optional<queue::TaskId> before) {
  return select_dead(filter, limit, before, false);
}

std::vector<queue::TaskId> PgTaskStore::ids_between(queue::TaskId low, queue::TaskId high,
                                                    std::optional<queue::TaskStatus> status, std::int64_t limit,
                                                    std::int64_t window) {
  // The inner LIMIT bounds the walk of the primary key's range; the status filter only thins what it read.
  const Result r = m_connection.exec_params(
      "SELECT id FROM (SELECT id, status FROM tasks WHERE id BETWEEN $1 AND $2 ORDER BY id DESC LIMIT $3) AS newest "
      "WHERE $4::text IS NULL OR status = $4::text ORDER BY id DESC LIMIT $5",
      {param(low), param(high), param(status ? window : limit),
       status ? Param(std::string(to_string(*status))) : std::nullopt, param(limit)});
  std::vector<queue::TaskId> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(int_at(r, i, 0));
  return out;
}

}  // namespace oos::pg
