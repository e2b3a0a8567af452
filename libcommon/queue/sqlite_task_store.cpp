#include "queue/sqlite_task_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <utility>

#include "db/events.hpp"
#include "error.hpp"
#include "queue/task_rows.hpp"
#include "util/files.hpp"
#include "util/json.hpp"
#include "util/name.hpp"

namespace oos::queue {
namespace {

using rows::bind_opt;
using rows::opt_int;
using rows::opt_text;
using rows::read_task;

constexpr std::string_view k_breaker_kind = "queue";

}  // namespace

// The fields of a running task that failure handling needs.
struct SqliteTaskStore::RunningRow {
  TaskId id = 0;
  std::string queue;
  int attempts = 0;
  int max_attempts = 0;
  std::optional<util::UnixMillis> started_at;
  std::optional<std::string> worker;
  int replays = 0;
};

SqliteTaskStore::SqliteTaskStore(db::Database& db, const config::Config& config, const util::Clock& clock,
                                 log::Logger& logger)
    : m_db(db), m_config(config), m_clock(clock), m_logger(logger), m_breakers(db, config.breaker, logger) {}

// The writes of a task's life (insert, claim, complete, fail) say OR FAIL: each changes one row, and with
// ABORT, the default, SQLite copies every page the statement changes into a statement journal first, because
// the statement fires the count triggers (schema version 6) and could abort halfway. FAIL keeps what a failed
// statement changed before the failure; here a failure throws, and the WriteTransaction around every write
// rolls the whole transaction back, so nothing of it is kept either way.
EnqueueResult SqliteTaskStore::insert(const NewTask& task, util::UnixMillis now) {
  if (task.unique_key) {
    auto existing = m_db.query(
        "SELECT id FROM tasks WHERE queue = ? AND unique_key = ? AND (status = 'pending' OR status = 'running')");
    existing->bind(1, task.queue);
    existing->bind(2, *task.unique_key);
    if (existing->executeStep()) return {existing->getColumn(0).getInt64(), false};
  }
  auto q = m_db.query(
      "INSERT OR FAIL INTO tasks (queue, type, payload, status, priority, run_at, max_attempts, unique_key, "
      "created_at, updated_at) VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6, ?7, ?8, ?8)");
  q->bind(1, task.queue);
  q->bind(2, task.type);
  q->bind(3, task.payload);
  q->bind(4, task.priority);
  q->bind(5, static_cast<std::int64_t>(now + task.delay.count()));
  q->bind(6, task.max_attempts.value_or(m_config.queue_settings(task.queue).max_attempts));
  bind_opt(*q, 7, task.unique_key);
  q->bind(8, static_cast<std::int64_t>(now));
  q->exec();
  return {m_db.raw().getLastInsertRowid(), true};
}

void SqliteTaskStore::register_queue(const std::string& queue, util::UnixMillis now) {
  auto q = m_db.query("INSERT OR IGNORE INTO queues (name, paused, updated_at) VALUES (?, 0, ?)");
  q->bind(1, queue);
  q->bind(2, static_cast<std::int64_t>(now));
  q->exec();
}

EnqueueResult SqliteTaskStore::enqueue(const NewTask& task) {
  validate(task, m_config);
  db::WriteTransaction tx(m_db);  // the time is read once the write lock is held
  auto now = m_clock.now();
  register_queue(task.queue, now);
  auto result = insert(task, now);
  tx.commit();
  return result;
}

std::vector<EnqueueResult> SqliteTaskStore::enqueue_batch(std::span<const NewTask> tasks) {
  for (const auto& task : tasks) validate(task, m_config);
  std::vector<EnqueueResult> results;
  results.reserve(tasks.size());
  db::WriteTransaction tx(m_db);
  auto now = m_clock.now();
  std::vector<std::string_view> registered;
  for (const auto& task : tasks) {
    if (std::find(registered.begin(), registered.end(), std::string_view(task.queue)) == registered.end()) {
      register_queue(task.queue, now);
      registered.push_back(task.queue);
    }
    results.push_back(insert(task, now));
  }
  tx.commit();
  return results;
}

std::vector<std::string> SqliteTaskStore::eligible_queues(std::span<const std::string> queues, util::UnixMillis now,
                                                          std::vector<breaker::NamedBreaker>& probes) {
  // Skip paused queues and queues whose breaker is open; let one probe through a cooled-down breaker.
  std::vector<std::string> eligible(queues.begin(), queues.end());
  {
    auto paused = m_db.query("SELECT name FROM queues WHERE paused");
    while (paused->executeStep()) std::erase(eligible, paused->getColumn(0).getString());
  }
  for (auto& b : m_breakers.load_not_closed(k_breaker_kind)) {
    auto admission = policy::admit(b.record, now);
    if (admission == policy::Admission::allow) continue;
    if (admission == policy::Admission::probe)
      probes.push_back(b);
    else
      std::erase(eligible, b.name);
  }
  return eligible;
}

std::optional<ClaimedTask> SqliteTaskStore::claim(std::span<const std::string> queues, std::string_view worker,
                                                  std::optional<util::Millis> lease_for) {
  db::WriteTransaction tx(m_db);  // the time is read once the write lock is held
  auto now = m_clock.now();
  auto claimed = claim_locked(queues, worker, now, lease_for);
  if (claimed) tx.commit();
  return claimed;
}

std::optional<ClaimedTask> SqliteTaskStore::claim_locked(std::span<const std::string> queues, std::string_view worker,
                                                         util::UnixMillis now, std::optional<util::Millis> lease_for) {
  std::vector<breaker::NamedBreaker> probes;
  auto eligible = eligible_queues(queues, now, probes);
  if (eligible.empty()) return std::nullopt;

  // Two plain statements under the write lock rather than UPDATE ... RETURNING: RETURNING and IN
  // (subquery) each cost SQLite an ephemeral table per call, which doubled the CPU of a claim.
  auto pick = m_db.query_text("SELECT " OOS_TASK_COLUMNS
                              " FROM tasks INDEXED BY tasks_claim WHERE status = 'pending' AND run_at <= ?1 "
                              "AND queue IN (" +
                              rows::placeholders(2, eligible.size()) + ") ORDER BY priority DESC, run_at, id LIMIT 1");
  pick->bind(1, static_cast<std::int64_t>(now));
  for (std::size_t i = 0; i < eligible.size(); ++i) pick->bind(static_cast<int>(i + 2), eligible[i]);
  if (!pick->executeStep()) return std::nullopt;
  ClaimedTask claimed{read_task(*pick), {}, false};
  pick->tryReset();

  auto& task = claimed.task;
  task.status = TaskStatus::running;
  task.attempts += 1;
  task.lease_owner = std::string(worker);
  task.lease_expires_at = now + lease_for.value_or(m_config.queue_settings(task.queue).lease).count();
  task.updated_at = now;
  claimed.lease = {task.id, util::random_token(), *task.lease_expires_at};
  auto q = m_db.query(
      "UPDATE OR FAIL tasks SET status = 'running', attempts = ?1, lease_owner = ?2, lease_token = ?3, "
      "lease_expires_at = ?4, started_at = ?5, updated_at = ?5 WHERE id = ?6");
  q->bind(1, task.attempts);
  q->bind(2, std::string(worker));
  q->bind(3, claimed.lease.token);
  q->bind(4, static_cast<std::int64_t>(claimed.lease.expires_at));
  q->bind(5, static_cast<std::int64_t>(now));
  q->bind(6, task.id);
  q->exec();
  for (const auto& b : probes) {
    if (b.name != task.queue) continue;
    m_breakers.save(k_breaker_kind, b.name, b.record, policy::start_probe(b.record), now);
    claimed.probe = true;
  }
  return claimed;
}

bool SqliteTaskStore::renew(Lease& lease, std::string_view queue, std::optional<util::Millis> lease_for) {
  db::WriteTransaction tx(m_db);
  // From the time the write lock is held: a busy wait before it must not shorten the lease granted.
  auto expires = m_clock.now() + lease_for.value_or(m_config.queue_settings(std::string(queue)).lease).count();
  auto q = m_db.query("UPDATE tasks SET lease_expires_at = ? WHERE id = ? AND status = 'running' AND lease_token = ?");
  q->bind(1, static_cast<std::int64_t>(expires));
  q->bind(2, lease.task_id);
  q->bind(3, lease.token);
  bool ours = q->exec() == 1;
  tx.commit();
  if (ours) lease.expires_at = expires;
  return ours;
}

void SqliteTaskStore::record_attempt(const RunningRow& row, std::string_view outcome, std::optional<int> exit_code,
                                     const std::optional<std::string>& error, util::UnixMillis now) {
  // Appended as the task's next run: attempts restart at 1 after a replay (oos-retry), so the attempt number
  // alone does not identify a run.
  auto q = m_db.query(
      "INSERT INTO task_attempts (task_id, run, replay, attempt, queue, worker, started_at, ended_at, outcome, "
      "exit_code, error) VALUES (?1, (SELECT coalesce(max(run), 0) + 1 FROM task_attempts WHERE task_id = ?1), "
      "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  q->bind(1, row.id);
  q->bind(2, row.replays);
  q->bind(3, row.attempts);
  q->bind(4, row.queue);
  bind_opt(*q, 5, row.worker);
  if (row.started_at)
    q->bind(6, static_cast<std::int64_t>(*row.started_at));
  else
    q->bind(6);
  q->bind(7, static_cast<std::int64_t>(now));
  q->bind(8, std::string(outcome));
  if (exit_code)
    q->bind(9, *exit_code);
  else
    q->bind(9);
  bind_opt(*q, 10, error);
  q->exec();

  // The run is counted in its minute's row (stats: the last hour). purge() folds rows older than a day into
  // the minute-0 row before deleting them, so the sum over a queue's rows is a total that only grows.
  auto counters = m_db.query(
      "INSERT INTO queue_counters (queue, minute, runs, failures, run_ms) VALUES (?1, ?2, 1, ?3, ?4) "
      "ON CONFLICT (queue, minute) DO UPDATE SET runs = runs + 1, failures = failures + excluded.failures, "
      "run_ms = run_ms + excluded.run_ms");
  counters->bind(1, row.queue);
  counters->bind(2, static_cast<std::int64_t>(now / 60'000));
  counters->bind(3, outcome == "succeeded" ? 0 : 1);
  counters->bind(4,
                 static_cast<std::int64_t>(row.started_at ? std::max<util::UnixMillis>(0, now - *row.started_at) : 0));
  counters->exec();
}

Fence SqliteTaskStore::complete(const Lease& lease, std::string_view result, std::optional<int> exit_code) {
  db::WriteTransaction tx(m_db);  // the time is read once the write lock is held
  auto now = m_clock.now();
  auto fence = complete_locked(lease, result, exit_code, now);
  if (fence == Fence::applied) tx.commit();
  return fence;
}

Fence SqliteTaskStore::complete_locked(const Lease& lease, std::string_view result, std::optional<int> exit_code,
                                       util::UnixMillis now) {
  auto row = running_row(lease, "completion");
  if (!row) return Fence::stale;
  auto q = m_db.query(
      "UPDATE OR FAIL tasks SET status = 'succeeded', result = ?1, finished_at = ?2, updated_at = ?2, "
      "lease_token = NULL, lease_expires_at = NULL WHERE id = ?3");
  q->bind(1, std::string(result));
  q->bind(2, static_cast<std::int64_t>(now));
  q->bind(3, lease.task_id);
  q->exec();
  record_attempt(*row, "succeeded", exit_code, std::nullopt, now);
  m_breakers.record_success(k_breaker_kind, row->queue, now);
  return Fence::applied;
}

// Columns: id, queue, attempts, max_attempts, started_at, lease_owner, replays.
SqliteTaskStore::RunningRow SqliteTaskStore::read_running_row(SQLite::Statement& q) {
  return RunningRow{q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getInt(),
                    q.getColumn(3).getInt(),   opt_int(q.getColumn(4)),    opt_text(q.getColumn(5)),
                    q.getColumn(6).getInt()};
}

std::optional<SqliteTaskStore::RunningRow> SqliteTaskStore::running_row(const Lease& lease, std::string_view what) {
  auto q = m_db.query(
      "SELECT id, queue, attempts, max_attempts, started_at, lease_owner, replays FROM tasks "
      "WHERE id = ? AND status = 'running' AND lease_token = ?");
  q->bind(1, lease.task_id);
  q->bind(2, lease.token);
  if (q->executeStep()) return read_running_row(*q);
  warn_late(m_logger, lease.task_id, what);
  return std::nullopt;
}

FailOutcome SqliteTaskStore::fail_locked(const RunningRow& row, const Failure& failure, util::UnixMillis now,
                                         std::string_view outcome_override) {
  const auto& settings = m_config.queue_settings(row.queue);
  auto decision = policy::after_failure(failure.kind, row.attempts, row.max_attempts);
  FailOutcome outcome{Fence::applied, TaskStatus::dead, 0};
  if (decision == policy::AfterFailure::retry) {
    auto delay = policy::retry_delay(row.attempts, settings.backoff_seconds, settings.backoff_jitter, m_rng.fraction());
    outcome = {Fence::applied, TaskStatus::pending, now + delay.count()};
    auto q = m_db.query(
        "UPDATE OR FAIL tasks SET status = 'pending', run_at = ?1, last_error = ?2, lease_token = NULL, "
        "lease_expires_at = NULL, updated_at = ?3 WHERE id = ?4");
    q->bind(1, static_cast<std::int64_t>(outcome.retry_at));
    q->bind(2, failure.error);
    q->bind(3, static_cast<std::int64_t>(now));
    q->bind(4, row.id);
    q->exec();
  } else {
    auto q = m_db.query(
        "UPDATE OR FAIL tasks SET status = 'dead', last_error = ?1, finished_at = ?2, updated_at = ?2, "
        "lease_token = NULL, lease_expires_at = NULL WHERE id = ?3");
    q->bind(1, failure.error);
    q->bind(2, static_cast<std::int64_t>(now));
    q->bind(3, row.id);
    q->exec();
  }
  record_attempt(row, outcome_override.empty() ? outcome_name(failure.kind) : outcome_override, failure.exit_code,
                 failure.error, now);
  if (failure.kind == policy::FailureKind::temporary)
    m_breakers.record_neutral(k_breaker_kind, row.queue, now);
  else
    m_breakers.record_failure(k_breaker_kind, row.queue, now);
  return outcome;
}

FailOutcome SqliteTaskStore::fail(const Lease& lease, const Failure& failure) {
  db::WriteTransaction tx(m_db);  // the time is read once the write lock is held
  auto now = m_clock.now();
  auto row = running_row(lease, "failure");
  if (!row) return {};
  auto outcome = fail_locked(*row, failure, now);
  tx.commit();
  return outcome;
}

RecordAndClaim SqliteTaskStore::record_and_claim(const Lease& lease, const RunRecord& run,
                                                 std::span<const std::string> queues, std::string_view worker) {
  db::WriteTransaction tx(m_db);  // the time is read once the write lock is held
  auto now = m_clock.now();
  RecordAndClaim out;
  if (run.succeeded) {
    out.recorded.fence = complete_locked(lease, run.result, 0, now);
    out.recorded.status = TaskStatus::succeeded;
  } else if (auto row = running_row(lease, "failure")) {
    out.recorded = fail_locked(*row, run.failure, now);
  }
  out.next = claim_locked(queues, worker, now, std::nullopt);
  tx.commit();
  return out;
}

Fence SqliteTaskStore::release(const Lease& lease, util::UnixMillis not_before) {
  db::WriteTransaction tx(m_db);  // the time is read once the write lock is held
  auto now = m_clock.now();
  auto q = m_db.query(
      "UPDATE tasks SET status = 'pending', attempts = max(attempts - 1, 0), run_at = max(?1, ?4), "
      "lease_token = NULL, lease_expires_at = NULL, updated_at = ?1 WHERE id = ?2 AND status = 'running' AND "
      "lease_token = ?3");
  q->bind(1, static_cast<std::int64_t>(now));
  q->bind(4, static_cast<std::int64_t>(not_before));
  q->bind(2, lease.task_id);
  q->bind(3, lease.token);
  bool applied = q->exec() == 1;
  tx.commit();
  return applied ? Fence::applied : Fence::stale;
}

int SqliteTaskStore::reclaim_expired() {
  db::WriteTransaction tx(m_db);  // the time is read once the write lock is held
  auto now = m_clock.now();
  std::vector<RunningRow> expired;
  {
    auto q = m_db.query(
        "SELECT id, queue, attempts, max_attempts, started_at, lease_owner, replays FROM tasks INDEXED BY "
        "tasks_running "
        "WHERE status = 'running' AND lease_expires_at < ?");
    q->bind(1, static_cast<std::int64_t>(now));
    while (q->executeStep()) expired.push_back(read_running_row(*q));
  }
  std::vector<TaskStatus> after;
  for (const auto& row : expired) after.push_back(fail_locked(row, lost_lease(), now, "lost").status);
  tx.commit();
  for (std::size_t i = 0; i < expired.size(); ++i)
    warn_reclaimed(m_logger, expired[i].id, expired[i].worker, expired[i].queue, after[i]);
  return static_cast<int>(expired.size());
}

void SqliteTaskStore::cancel(TaskId id) {
  db::WriteTransaction tx(m_db);  // the time is read once the write lock is held
  auto now = m_clock.now();
  auto task = find(id);
  if (!task) throw task_not_found(id);
  if (task->status != TaskStatus::pending) throw cannot_cancel(id, task->status);
  auto q = m_db.query(
      "UPDATE tasks SET status = 'cancelled', finished_at = ?1, updated_at = ?1 WHERE id = ?2 AND status = 'pending'");
  q->bind(1, static_cast<std::int64_t>(now));
  q->bind(2, id);
  q->exec();
  db::record_event(m_db, now, "task.cancel", fmt::format("task/{}", id), "cancelled by hand");
  tx.commit();
  m_logger.info(fmt::format("task {} cancelled", id), {{"task_id", std::to_string(id)}, {"queue", task->queue}});
}

void SqliteTaskStore::refuse_unique_key_conflicts(const std::vector<Task>& dead, std::size_t requeued_before) {
  queue::refuse_unique_key_conflicts(
      dead,
      [&](const Task& task) -> std::optional<std::string> {
        auto holder = m_db.query(
            "SELECT id, status FROM tasks WHERE queue = ? AND unique_key = ? AND (status = 'pending' OR status = "
            "'running')");
        holder->bind(1, task.queue);
        holder->bind(2, *task.unique_key);
        if (!holder->executeStep()) return std::nullopt;
        return fmt::format("task {} ({})", holder->getColumn(0).getInt64(), holder->getColumn(1).getString());
      },
      requeued_before);
}

std::vector<TaskId> SqliteTaskStore::requeue(std::span<const TaskId> ids, const DeadFilter& filter, DryRun dry_run,
                                             const util::ProgressCallback& progress) {
  if (ids.empty() && dry_run == DryRun::no) return requeue_all(filter, progress);
  db::WriteTransaction tx(m_db);  // the time is read once the write lock is held
  auto now = m_clock.now();
  std::vector<Task> dead;
  if (ids.empty()) {
    dead = list_dead(filter, -1, std::nullopt);
  } else {
    for (auto id : ids) {
      auto task = find(id);
      if (!task) throw task_not_found(id);
      if (task->status != TaskStatus::dead) throw cannot_requeue(id, task->status);
      dead.push_back(std::move(*task));
    }
  }
  refuse_unique_key_conflicts(dead);
  auto selected = ids_of(dead);
  if (dry_run == DryRun::yes) return selected;
  requeue_locked(selected, now);
  tx.commit();
  log_requeued(m_logger, selected);
  return selected;
}

// The whole selection's keys are checked first, so that the refusals a requeue expects (two dead tasks of one key,
// a key an active task held before the command) change nothing; each batch checks its own again under the lock.
std::vector<TaskId> SqliteTaskStore::requeue_all(const DeadFilter& filter, const util::ProgressCallback& progress) {
  refuse_unique_key_conflicts(dead_with_unique_keys(filter));
  auto batch = [&](std::optional<TaskId> before, std::size_t requeued_before) {
    db::WriteTransaction tx(m_db);  // the time is read once the write lock is held
    auto now = m_clock.now();
    auto dead = list_dead(filter, k_requeue_batch, before);
    refuse_unique_key_conflicts(dead, requeued_before);
    auto selected = ids_of(dead);
    requeue_locked(selected, now);
    tx.commit();
    log_requeued(m_logger, selected);
    return selected;
  };
  return requeue_in_batches(progress ? count_dead(filter) : 0, batch, progress);
}

void SqliteTaskStore::requeue_locked(std::span<const TaskId> ids, util::UnixMillis now) {
  for (auto id : ids) {
    auto q = m_db.query(
        "UPDATE tasks SET status = 'pending', attempts = 0, replays = replays + 1, run_at = ?1, updated_at = ?1, "
        "finished_at = NULL WHERE id = ?2 AND status = 'dead'");
    q->bind(1, static_cast<std::int64_t>(now));
    q->bind(2, id);
    q->exec();
    db::record_event(m_db, now, "task.requeue", fmt::format("task/{}", id), "dead -> pending");
  }
}

PurgeResult SqliteTaskStore::purge(const PurgeOptions& options) {
  bool dry = options.dry_run == DryRun::yes;
  db::WriteTransaction tx(m_db);
  auto now = m_clock.now();
  std::vector<std::string> queues;
  {
    auto q = m_db.query("SELECT name FROM queues");
    while (q->executeStep()) queues.push_back(q->getColumn(0).getString());
  }
  auto count_or_delete = [&](db::Sql count_sql, db::Sql delete_sql, const std::string& queue,
                             util::UnixMillis cutoff) -> std::int64_t {
    auto q = m_db.query(dry ? count_sql : delete_sql);
    q->bind(1, queue);
    q->bind(2, static_cast<std::int64_t>(cutoff));
    if (dry) return q->executeStep() ? q->getColumn(0).getInt64() : 0;
    return q->exec();
  };
  PurgeResult result;
  for (const auto& queue : queues) {
    const auto& settings = m_config.queue_settings(queue);
    if (options.dead)
      result.dead +=
          count_or_delete("SELECT count(*) FROM tasks WHERE queue = ? AND status = 'dead' AND finished_at < ?",
                          "DELETE FROM tasks WHERE queue = ? AND status = 'dead' AND finished_at < ?", queue,
                          now - options.older_than.value_or(settings.dead_retention).count());
    if (options.succeeded)
      result.succeeded +=
          count_or_delete("SELECT count(*) FROM tasks WHERE queue = ? AND status = 'succeeded' AND finished_at < ?",
                          "DELETE FROM tasks WHERE queue = ? AND status = 'succeeded' AND finished_at < ?", queue,
                          now - options.older_than.value_or(settings.succeeded_retention).count());
  }
  if (!dry) {
    // Old minutes are folded into the minute-0 row, so the run totals (the sum of a queue's rows) stay whole.
    auto before = static_cast<std::int64_t>(now / 60'000 - k_counter_minutes_kept);
    auto fold = m_db.query(
        "INSERT INTO queue_counters (queue, minute, runs, failures, run_ms) "
        "SELECT queue, 0, sum(runs), sum(failures), sum(run_ms) FROM queue_counters "
        "WHERE minute > 0 AND minute < ?1 GROUP BY queue "
        "ON CONFLICT (queue, minute) DO UPDATE SET runs = runs + excluded.runs, "
        "failures = failures + excluded.failures, run_ms = run_ms + excluded.run_ms");
    fold->bind(1, before);
    fold->exec();
    auto q = m_db.query("DELETE FROM queue_counters WHERE minute > 0 AND minute < ?");
    q->bind(1, before);
    q->exec();
    if (result.dead > 0 || result.succeeded > 0)
      db::record_event(m_db, now, "task.purge", "tasks",
                       fmt::format("{} dead and {} succeeded tasks deleted", result.dead, result.succeeded));
  }
  tx.commit();
  return result;
}

}  // namespace oos::queue
