// The read side of TaskStore: single tasks, attempt history and listings.
#include <limits>

#include "queue/sqlite_queue_store.hpp"
#include "queue/sqlite_task_store.hpp"
#include "queue/task_rows.hpp"

namespace oos::queue {

using rows::bind_opt;
using rows::opt_int;
using rows::opt_text;
using rows::read_task;

namespace {

// The highest id a listing that stops before `before` may return (every id without it).
std::int64_t highest_below(std::optional<TaskId> before) {
  return before ? *before - 1 : std::numeric_limits<std::int64_t>::max();
}

}  // namespace

// The dead tasks a DeadFilter selects, its fields bound to ?1 (queue), ?2 (type) and ?3 (error_match).
#define OOS_DEAD_MATCHING                                                                            \
  "status = 'dead' AND (?1 IS NULL OR queue = ?1) AND (?2 IS NULL OR type = ?2) AND (?3 IS NULL OR " \
  "instr(coalesce(last_error, ''), ?3) > 0)"

void SqliteTaskStore::bind_filter(SQLite::Statement& q, const DeadFilter& filter) {
  bind_opt(q, 1, filter.queue);
  bind_opt(q, 2, filter.type);
  bind_opt(q, 3, filter.error_match);
}

std::optional<util::UnixMillis> SqliteTaskStore::next_run_at(std::span<const std::string> queues) {
  std::vector<breaker::NamedBreaker> probes;
  auto eligible = eligible_queues(queues, m_clock.now(), probes);
  if (eligible.empty()) return std::nullopt;
  auto q = m_db.query_text("SELECT min(run_at) FROM tasks WHERE status = 'pending' AND queue IN (" +
                           rows::placeholders(1, eligible.size()) + ")");
  for (std::size_t i = 0; i < eligible.size(); ++i) q->bind(static_cast<int>(i + 1), eligible[i]);
  q->executeStep();
  return opt_int(q->getColumn(0));
}

std::int64_t SqliteTaskStore::runnable_count(std::span<const std::string> queues) {
  return runnable_tasks(m_db, queues, m_clock.now());
}

std::optional<Task> SqliteTaskStore::find(TaskId id) {
  auto q = m_db.query("SELECT " OOS_TASK_COLUMNS " FROM tasks WHERE id = ?");
  q->bind(1, id);
  if (!q->executeStep()) return std::nullopt;
  return read_task(*q);
}

bool SqliteTaskStore::holds(const Lease& lease) {
  auto q = m_db.query(
      "SELECT 1 FROM tasks WHERE id = ? AND status = 'running' AND lease_token = ? AND lease_expires_at >= ?");
  q->bind(1, lease.task_id);
  q->bind(2, lease.token);
  q->bind(3, static_cast<std::int64_t>(m_clock.now()));
  return q->executeStep();
}

std::vector<Attempt> SqliteTaskStore::attempts(TaskId id) {
  auto q = m_db.query(
      "SELECT attempt, worker, started_at, ended_at, outcome, exit_code, error, replay FROM task_attempts "
      "WHERE task_id = ? ORDER BY run");
  q->bind(1, id);
  std::vector<Attempt> out;
  while (q->executeStep()) {
    Attempt a;
    a.attempt = q->getColumn(0).getInt();
    a.worker = opt_text(q->getColumn(1));
    a.started_at = opt_int(q->getColumn(2));
    a.ended_at = q->getColumn(3).getInt64();
    a.outcome = q->getColumn(4).getString();
    if (auto code = opt_int(q->getColumn(5))) a.exit_code = static_cast<int>(*code);
    a.error = opt_text(q->getColumn(6));
    a.replay = q->getColumn(7).getInt();
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<Task> SqliteTaskStore::list(const std::string& queue, std::optional<TaskStatus> status, std::int64_t limit,
                                        std::optional<TaskId> before) {
  // `id <= ?4` rather than an optional bound: the planner then walks the rowid down from the cursor.
  auto q = m_db.query("SELECT " OOS_TASK_COLUMNS
                      " FROM tasks WHERE queue = ?1 AND (?2 IS NULL OR status = ?2) AND id <= ?4 ORDER BY id DESC "
                      "LIMIT ?3");
  q->bind(1, queue);
  if (status)
    q->bind(2, std::string(to_string(*status)));
  else
    q->bind(2);
  q->bind(3, limit);
  q->bind(4, highest_below(before));
  std::vector<Task> out;
  while (q->executeStep()) out.push_back(read_task(*q));
  return out;
}

std::vector<Task> SqliteTaskStore::list_dead(const DeadFilter& filter, std::int64_t limit,
                                             std::optional<TaskId> before) {
  auto q = m_db.query("SELECT " OOS_TASK_COLUMNS " FROM tasks WHERE " OOS_DEAD_MATCHING
                      " AND id <= ?5 ORDER BY id DESC LIMIT ?4");
  bind_filter(*q, filter);
  q->bind(4, limit);
  q->bind(5, highest_below(before));
  std::vector<Task> out;
  while (q->executeStep()) out.push_back(read_task(*q));
  return out;
}

std::int64_t SqliteTaskStore::count_dead(const DeadFilter& filter) {
  auto q = m_db.query("SELECT count(*) FROM tasks WHERE " OOS_DEAD_MATCHING);
  bind_filter(*q, filter);
  q->executeStep();
  return q->getColumn(0).getInt64();
}

std::vector<Task> SqliteTaskStore::dead_with_unique_keys(const DeadFilter& filter) {
  auto q = m_db.query("SELECT id, queue, unique_key FROM tasks WHERE " OOS_DEAD_MATCHING
                      " AND unique_key IS NOT NULL ORDER BY id DESC");
  bind_filter(*q, filter);
  std::vector<Task> out;
  while (q->executeStep()) {
    Task task;
    task.id = q->getColumn(0).getInt64();
    task.queue = q->getColumn(1).getString();
    task.unique_key = q->getColumn(2).getString();
    task.status = TaskStatus::dead;
    out.push_back(std::move(task));
  }
  return out;
}

std::vector<TaskId> SqliteTaskStore::ids_between(TaskId low, TaskId high, std::optional<TaskStatus> status,
                                                 std::int64_t limit, std::int64_t window) {
  // The inner LIMIT bounds the walk of the rowid range; the status filter only thins what it read.
  auto q = m_db.query(
      "SELECT id FROM (SELECT id, status FROM tasks WHERE id BETWEEN ?1 AND ?2 ORDER BY id DESC LIMIT ?3) "
      "WHERE ?4 IS NULL OR status = ?4 ORDER BY id DESC LIMIT ?5");
  q->bind(1, low);
  q->bind(2, high);
  q->bind(3, status ? window : limit);
  if (status)
    q->bind(4, std::string(to_string(*status)));
  else
    q->bind(4);
  q->bind(5, limit);
  std::vector<TaskId> out;
  while (q->executeStep()) out.push_back(q->getColumn(0).getInt64());
  return out;
}

}  // namespace oos::queue
