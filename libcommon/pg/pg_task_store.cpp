#include "pg/pg_task_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <utility>

#include "error.hpp"
#include "pg/events.hpp"
#include "pg/listener.hpp"
#include "pg/pg_task_rows.hpp"
#include "pg/task_sql.hpp"
#include "pg/values.hpp"
#include "util/name.hpp"

namespace oos::pg {

using queue::ClaimedTask;
using queue::EnqueueResult;
using queue::FailOutcome;
using queue::Fence;
using queue::TaskStatus;

namespace {

constexpr std::string_view k_breaker_kind = OOS_PG_QUEUE_BREAKER_KIND;

// The first key of the unique keys' advisory locks ("OOSK"; the breakers' class is "OOSB").
constexpr int k_unique_key_lock_class = 0x4f4f534b;

// How often enqueue tries again when the unique key's holder finished between its insert and its lookup.
constexpr int k_unique_key_tries = 5;

Param opt_param(const std::optional<std::string>& value) {
  return value;
}

Param opt_param(std::optional<int> value) {
  return value ? Param(std::to_string(*value)) : std::nullopt;
}

// The longest payload notify_runnable() sends (the server's limit is 8000 bytes); a longer list is sent empty.
constexpr std::size_t k_max_notify_payload = 1000;

// Tells the listening workers (pg/listener.hpp) that `queues` have tasks runnable now: one NOTIFY for the caller's
// transaction, delivered at its commit and dropped by its rollback. The payload names the queues, comma-separated,
// for a reader; a worker wakes on any.
void notify_runnable(Connection& connection, std::span<const std::string_view> queues) {
  std::string payload;
  for (const auto queue : queues) payload += (payload.empty() ? "" : ",") + std::string(queue);
  if (payload.size() > k_max_notify_payload) payload.clear();
  connection.exec_params("SELECT pg_notify($1, $2)", {Param{k_tasks_channel}, payload});
}

void notify_runnable(Connection& connection, std::string_view queue) {
  notify_runnable(connection, std::span(&queue, 1));
}

}  // namespace

PgTaskStore::PgTaskStore(Connection& connection, const config::Config& config, const util::Clock& clock,
                         log::Logger& logger)
    : m_connection(connection),
      m_config(config),
      m_clock(clock),
      m_logger(logger),
      m_breakers(connection, config.breaker, logger) {}

PgTaskStore::RunningRow PgTaskStore::read_running_row(const Result& r, int row) {
  return RunningRow{int_at(r, row, 0),
                    std::string(r.text(row, 1)),
                    static_cast<int>(int_at(r, row, 2)),
                    static_cast<int>(int_at(r, row, 3)),
                    opt_int_at(r, row, 4),
                    r.value(row, 5),
                    static_cast<int>(int_at(r, row, 6))};
}

void PgTaskStore::register_queue(const std::string& queue, util::UnixMillis now) {
  m_connection.exec_params(
      "INSERT INTO queues (name, paused, updated_at) VALUES ($1, false, $2) ON CONFLICT DO NOTHING",
      {queue, param(now)});
}

void PgTaskStore::lock_unique_keys(std::span<const queue::NewTask> tasks) {
  std::vector<std::string> keys;
  for (const auto& task : tasks)
    if (task.unique_key) keys.push_back(task.queue + "/" + *task.unique_key);  // no '/' in a queue name
  if (!keys.empty()) lock_keys(keys);
}

// In the order of their hashes (a volatile function in the select list runs after the sort), so that two transactions
// locking overlapping sets do not deadlock.
void PgTaskStore::lock_keys(std::span<const std::string> keys) {
  m_connection.exec_params(
      "SELECT pg_advisory_xact_lock($1, h) FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($2::text[]) AS k) keys "
      "ORDER BY h",
      {param(k_unique_key_lock_class), text_array(keys)});
}

// A task with a unique key is inserted unless an active task holds its key, as the caller, holding the key's lock
// (lock_unique_keys), has just read: no other enqueue or requeue of the key runs meanwhile, so the holder read is
// still the holder at the insert, and a refused enqueue draws no id from the sequence (the ids stay as on SQLite).
// A completion or failure takes no key lock: the holder may finish between the read and the insert, which only frees
// the key. ON CONFLICT DO NOTHING stays as the partial unique index's last word (a lock taken by hand elsewhere).
EnqueueResult PgTaskStore::insert(const queue::NewTask& task, util::UnixMillis now) {
  for (int tries = 0;; ++tries) {
    if (task.unique_key) {
      const Result holder = m_connection.exec_params(
          "SELECT id FROM tasks WHERE queue = $1 AND unique_key = $2 AND status IN ('pending', 'running')",
          {task.queue, opt_param(task.unique_key)});
      if (holder.rows() == 1) return {int_at(holder, 0, 0), false};
    }
    const Result inserted = m_connection.exec_params(
        "INSERT INTO tasks (queue, type, payload, status, priority, run_at, max_attempts, unique_key, created_at, "
        "updated_at) VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $8) ON CONFLICT (queue, unique_key) "
        "WHERE unique_key IS NOT NULL AND status IN ('pending', 'running') DO NOTHING RETURNING id",
        {task.queue, task.type, task.payload, param(task.priority), param(now + task.delay.count()),
         param(task.max_attempts.value_or(m_config.queue_settings(task.queue).max_attempts)),
         opt_param(task.unique_key), param(now)});
    if (inserted.rows() == 1) return {int_at(inserted, 0, 0), true};
    if (tries + 1 == k_unique_key_tries)
      throw Error(ExitCode::temp_fail,
                  fmt::format("the unique key '{}' of queue '{}' changed hands {} times during "
                              "the enqueue; try again",
                              util::cut_for_message(task.unique_key.value_or("")), task.queue, k_unique_key_tries));
  }
}

EnqueueResult PgTaskStore::enqueue(const queue::NewTask& task) {
  queue::validate(task, m_config);
  Transaction tx(m_connection);
  auto now = m_clock.now();
  lock_unique_keys(std::span(&task, 1));  // first, as enqueue_batch does: one order of locks
  register_queue(task.queue, now);
  auto result = insert(task, now);
  if (result.created && task.delay.count() <= 0) notify_runnable(m_connection, task.queue);
  tx.commit();
  return result;
}

std::vector<EnqueueResult> PgTaskStore::enqueue_batch(std::span<const queue::NewTask> tasks) {
  for (const auto& task : tasks) queue::validate(task, m_config);
  std::vector<EnqueueResult> results;
  results.reserve(tasks.size());
  Transaction tx(m_connection);
  auto now = m_clock.now();
  lock_unique_keys(tasks);
  std::vector<std::string_view> registered;
  std::vector<std::string_view> runnable;
  for (const auto& task : tasks) {
    if (std::find(registered.begin(), registered.end(), std::string_view(task.queue)) == registered.end()) {
      register_queue(task.queue, now);
      registered.push_back(task.queue);
    }
    results.push_back(insert(task, now));
    if (results.back().created && task.delay.count() <= 0 &&
        std::find(runnable.begin(), runnable.end(), std::string_view(task.queue)) == runnable.end())
      runnable.push_back(task.queue);
  }
  if (!runnable.empty()) notify_runnable(m_connection, runnable);
  tx.commit();
  return results;
}

std::vector<std::string> PgTaskStore::admitted_queues(std::span<const std::string> queues, util::UnixMillis now,
                                                      std::vector<breaker::NamedBreaker>* probes) {
  std::vector<std::string> eligible(queues.begin(), queues.end());
  if (eligible.empty()) return eligible;
  // Read without a lock: only a breaker that may let a probe through is locked and read again, so that claims
  // of queues whose breakers are closed (or plainly open) never wait for one another.
  for (auto& b : m_breakers.load_not_closed(k_breaker_kind)) {
    if (std::find(eligible.begin(), eligible.end(), b.name) == eligible.end()) continue;
    auto admission = policy::admit(b.record, now);
    if (admission == policy::Admission::probe && probes) {
      if (m_breakers.lock(k_breaker_kind, b.name, PgBreakerStore::Wait::no)) {
        b.record = m_breakers.load(k_breaker_kind, b.name);
        admission = policy::admit(b.record, now);
      } else {
        admission = policy::Admission::deny;  // another claimer is deciding this probe
      }
    }
    if (admission == policy::Admission::allow) continue;
    if (admission == policy::Admission::probe) {
      if (probes) probes->push_back(b);
    } else {
      std::erase(eligible, b.name);
    }
  }
  return eligible;
}

std::vector<std::int64_t> PgTaskStore::lease_lengths(std::span<const std::string> queues,
                                                     std::optional<util::Millis> lease_for) const {
  std::vector<std::int64_t> leases;
  leases.reserve(queues.size());
  for (const auto& q : queues) leases.push_back(lease_for.value_or(m_config.queue_settings(q).lease).count());
  return leases;
}

std::optional<ClaimedTask> PgTaskStore::claimed_task(const Result& r, int first_column, const std::string& token,
                                                     util::UnixMillis now) {
  if (r.rows() == 0 || r.is_null(0, first_column)) return std::nullopt;
  ClaimedTask claimed{rows::read_task(r, 0, first_column), {}, false};
  claimed.lease = {claimed.task.id, token, claimed.task.lease_expires_at.value_or(now)};
  return claimed;
}

// Claims in one statement (autocommit), which passes over the queues whose breakers deny, unless a breaker of the
// queues is due a probe; then decides admission and probes and claims in a transaction (claim_locked).
std::optional<ClaimedTask> PgTaskStore::claim(std::span<const std::string> queues, std::string_view worker,
                                              std::optional<util::Millis> lease_for) {
  auto now = m_clock.now();
  auto token = util::random_token();
  const auto leases = lease_lengths(queues, lease_for);
  const Result r =
      m_connection.exec_params(sql::call_claim_unless_breaker(),
                               {param(now), text_array(queues), std::string(worker), token, int_array(leases)});
  if (auto claimed = claimed_task(r, 1, token, now)) return claimed;
  if (int_at(r, 0, 0) == 0) return std::nullopt;
  return claim_with_breakers(queues, worker, now, lease_for);
}

std::optional<ClaimedTask> PgTaskStore::claim_with_breakers(std::span<const std::string> queues,
                                                            std::string_view worker, util::UnixMillis now,
                                                            std::optional<util::Millis> lease_for) {
  Transaction tx(m_connection);
  auto claimed = claim_locked(queues, worker, now, lease_for);
  tx.commit();
  return claimed;
}

std::optional<ClaimedTask> PgTaskStore::claim_locked(std::span<const std::string> queues, std::string_view worker,
                                                     util::UnixMillis now, std::optional<util::Millis> lease_for) {
  std::vector<breaker::NamedBreaker> probes;
  auto admitted = admitted_queues(queues, now, &probes);
  if (admitted.empty()) return std::nullopt;
  auto token = util::random_token();
  const Result r = m_connection.exec_params(sql::call_claim(), {param(now), text_array(admitted), std::string(worker),
                                                                token, int_array(lease_lengths(admitted, lease_for))});
  auto claimed = claimed_task(r, 0, token, now);
  if (!claimed) return std::nullopt;
  for (const auto& b : probes) {
    if (b.name != claimed->task.queue) continue;
    m_breakers.save(k_breaker_kind, b.name, b.record, policy::start_probe(b.record), now);
    claimed->probe = true;
  }
  return claimed;
}

bool PgTaskStore::renew(queue::Lease& lease, std::string_view queue, std::optional<util::Millis> lease_for) {
  auto expires = m_clock.now() + lease_for.value_or(m_config.queue_settings(std::string(queue)).lease).count();
  const Result r = m_connection.exec_params(
      "UPDATE tasks SET lease_expires_at = $1 WHERE id = $2 AND status = 'running' AND lease_token = $3",
      {param(expires), param(lease.task_id), lease.token});
  bool ours = r.affected_rows() == 1;
  if (ours) lease.expires_at = expires;
  return ours;
}

Fence PgTaskStore::complete(const queue::Lease& lease, std::string_view result, std::optional<int> exit_code) {
  Transaction tx(m_connection);
  auto now = m_clock.now();
  auto fence = complete_locked(lease, result, exit_code, now);
  if (fence == Fence::applied) tx.commit();
  return fence;
}

// One statement finishes the task, records its run and reads the queue's breaker, which a success changes only
// when it is not closed or counts failures (PgBreakerStore::record_success).
Fence PgTaskStore::complete_locked(const queue::Lease& lease, std::string_view result, std::optional<int> exit_code,
                                   util::UnixMillis now) {
  const Result r =
      m_connection.exec_params("WITH " OOS_PG_COMPLETED ", " OOS_PG_RECORD_RUN "SELECT done.*, " OOS_PG_BREAKER_COLUMNS
                               " FROM done " OOS_PG_BREAKER_OF_DONE,
                               {param(now), "succeeded", opt_param(exit_code), std::nullopt, param(0),
                                std::string(result), param(lease.task_id), lease.token});
  if (r.rows() == 0) {
    queue::warn_late(m_logger, lease.task_id, "completion");
    return Fence::stale;
  }
  auto row = read_running_row(r, 0);
  m_breakers.record_success(k_breaker_kind, row.queue, now, m_breakers.read_record(r, 0, k_running_columns));
  return Fence::applied;
}

FailOutcome PgTaskStore::fail_locked(const RunningRow& row, const queue::Failure& failure, util::UnixMillis now,
                                     std::string_view outcome_override) {
  const auto& settings = m_config.queue_settings(row.queue);
  auto decision = policy::after_failure(failure.kind, row.attempts, row.max_attempts);
  FailOutcome outcome{Fence::applied, TaskStatus::dead, 0};
  // The task's new state and its run, in one statement ($1-$5 as OOS_PG_RECORD_RUN reads them).
  std::vector<Param> params{
      param(now), std::string(outcome_override.empty() ? queue::outcome_name(failure.kind) : outcome_override),
      opt_param(failure.exit_code), failure.error, param(1)};
  if (decision == policy::AfterFailure::retry) {
    auto delay = policy::retry_delay(row.attempts, settings.backoff_seconds, settings.backoff_jitter, m_rng.fraction());
    outcome = {Fence::applied, TaskStatus::pending, now + delay.count()};
    params.insert(params.end(), {param(outcome.retry_at), param(row.id)});
    m_connection.exec_params("WITH done AS (UPDATE tasks SET status = 'pending', " OOS_PG_COUNT_RUN
                             ", run_at = $6, last_error = $4, "
                             "lease_token = NULL, lease_expires_at = NULL, updated_at = $1::bigint WHERE id = $7 "
                             "RETURNING " OOS_PG_RUNNING_COLUMNS "), " OOS_PG_RECORD_RUN "SELECT count(*) FROM done",
                             params);
    if (outcome.retry_at <= now) notify_runnable(m_connection, row.queue);
  } else {
    params.push_back(param(row.id));
    m_connection.exec_params("WITH done AS (UPDATE tasks SET status = 'dead', " OOS_PG_COUNT_RUN
                             ", last_error = $4, finished_at = $1::bigint, "
                             "updated_at = $1::bigint, lease_token = NULL, lease_expires_at = NULL WHERE id = $6 "
                             "RETURNING " OOS_PG_RUNNING_COLUMNS "), " OOS_PG_RECORD_RUN "SELECT count(*) FROM done",
                             params);
  }
  if (failure.kind == policy::FailureKind::temporary)
    m_breakers.record_neutral(k_breaker_kind, row.queue, now);
  else
    m_breakers.record_failure(k_breaker_kind, row.queue, now);
  return outcome;
}

// The fence is one UPDATE on the lease token, which takes the token away (and the row lock to the commit); the
// decision, which needs the attempts it returns, is written by fail_locked().
FailOutcome PgTaskStore::fail_fenced(const queue::Lease& lease, const queue::Failure& failure, util::UnixMillis now) {
  const Result r = m_connection.exec_params(
      "UPDATE tasks SET lease_token = NULL, updated_at = $1 WHERE id = $2 AND status = 'running' AND lease_token = $3 "
      "RETURNING " OOS_PG_RUNNING_COLUMNS,
      {param(now), param(lease.task_id), lease.token});
  if (r.rows() == 0) {
    queue::warn_late(m_logger, lease.task_id, "failure");
    return {};
  }
  return fail_locked(read_running_row(r, 0), failure, now);
}

FailOutcome PgTaskStore::fail(const queue::Lease& lease, const queue::Failure& failure) {
  Transaction tx(m_connection);
  auto now = m_clock.now();
  auto outcome = fail_fenced(lease, failure, now);
  if (outcome.fence == Fence::applied) tx.commit();
  return outcome;
}

// A success is recorded and the next task claimed in one statement (sql::complete_and_claim, autocommit): one round
// trip and one commit. What that statement leaves to the caller gets statements of its own after it: a breaker
// that the success changes (the half-open probe's, or one that counts failures), and a claim when a breaker of the
// queues is due a probe. A failure, whose decision needs the attempts the fence returns, is a transaction.
queue::RecordAndClaim PgTaskStore::record_and_claim(const queue::Lease& lease, const queue::RunRecord& run,
                                                    std::span<const std::string> queues, std::string_view worker) {
  queue::RecordAndClaim out;
  auto now = m_clock.now();
  if (!run.succeeded) {
    Transaction tx(m_connection);
    out.recorded = fail_fenced(lease, run.failure, now);
    out.next = claim_locked(queues, worker, now, std::nullopt);
    tx.commit();
    return out;
  }
  auto token = util::random_token();
  const Result r = m_connection.exec_params(
      sql::call_complete_and_claim(),
      {param(now), "succeeded", param(0), std::nullopt, param(0), run.result, param(lease.task_id), lease.token,
       text_array(queues), std::string(worker), token, int_array(lease_lengths(queues, std::nullopt))});
  constexpr int k_probes_due = k_running_columns + 4;  // its column: after the completed task and its breaker
  out.recorded.status = TaskStatus::succeeded;
  bool closed_a_breaker = false;  // the probe's success: its queue, which the statement passed over, is admitted now
  if (r.is_null(0, 0)) {
    queue::warn_late(m_logger, lease.task_id, "completion");
    out.recorded.fence = Fence::stale;
  } else {
    out.recorded.fence = Fence::applied;
    const auto seen = m_breakers.read_record(r, 0, k_running_columns);
    if (m_breakers.success_changes(seen)) {
      Transaction tx(m_connection);
      m_breakers.record_success(k_breaker_kind, r.text(0, 1), now, seen);
      tx.commit();
      closed_a_breaker = seen.state != policy::BreakerState::closed;
    }
  }
  out.next = claimed_task(r, k_probes_due + 1, token, now);
  if (!out.next && (closed_a_breaker || int_at(r, 0, k_probes_due) > 0))
    out.next = claim_with_breakers(queues, worker, now, std::nullopt);
  return out;
}

// The task is runnable again at once: the listening workers are told in the same statement (delivered at its
// commit), so that an idle worker of another host takes it now rather than at its next poll.
Fence PgTaskStore::release(const queue::Lease& lease, util::UnixMillis not_before) {
  auto now = m_clock.now();
  const Result r = m_connection.exec_params(
      "WITH released AS (UPDATE tasks SET status = 'pending', attempts = greatest(attempts - 1, 0), "
      "run_at = greatest($1::bigint, $5::bigint), lease_token = NULL, lease_expires_at = NULL, updated_at = $1 "
      "WHERE id = $2 AND status = 'running' AND lease_token = $3 RETURNING queue) "
      "SELECT pg_notify($4, queue) FROM released",
      {param(now), param(lease.task_id), lease.token, Param{k_tasks_channel}, param(not_before)});
  return r.rows() == 1 ? Fence::applied : Fence::stale;
}

int PgTaskStore::reclaim_expired() {
  Transaction tx(m_connection);
  auto now = m_clock.now();
  std::vector<RunningRow> expired;
  {
    const Result r = m_connection.exec_params(sql::k_expired, {param(now)});
    for (int i = 0; i < r.rows(); ++i) expired.push_back(read_running_row(r, i));
  }
  std::vector<TaskStatus> after;
  for (const auto& row : expired) after.push_back(fail_locked(row, queue::lost_lease(), now, "lost").status);
  tx.commit();
  for (std::size_t i = 0; i < expired.size(); ++i)
    queue::warn_reclaimed(m_logger, expired[i].id, expired[i].worker, expired[i].queue, after[i]);
  return static_cast<int>(expired.size());
}

void PgTaskStore::cancel(queue::TaskId id) {
  Transaction tx(m_connection);
  auto now = m_clock.now();
  const Result r = m_connection.exec_params(
      "UPDATE tasks SET status = 'cancelled', finished_at = $1, updated_at = $1 WHERE id = $2 AND status = 'pending' "
      "RETURNING queue",
      {param(now), param(id)});
  if (r.rows() == 0) {
    auto task = find(id);
    if (!task) throw queue::task_not_found(id);
    throw queue::cannot_cancel(id, task->status);
  }
  record_event(m_connection, now, "task.cancel", fmt::format("task/{}", id), "cancelled by hand");
  tx.commit();
  m_logger.info(fmt::format("task {} cancelled", id),
                {{"task_id", std::to_string(id)}, {"queue", std::string(r.text(0, 0))}});
}

void PgTaskStore::refuse_unique_key_conflicts(const std::vector<queue::Task>& dead, std::size_t requeued_before) {
  std::vector<std::string> keys;
  for (const auto& task : dead)
    if (task.unique_key) keys.push_back(task.queue + "/" + *task.unique_key);
  if (!keys.empty()) lock_keys(keys);
  queue::refuse_unique_key_conflicts(
      dead,
      [&](const queue::Task& task) -> std::optional<std::string> {
        const Result holder = m_connection.exec_params(
            "SELECT id, status FROM tasks WHERE queue = $1 AND unique_key = $2 AND status IN ('pending', 'running')",
            {task.queue, *task.unique_key});
        if (holder.rows() == 0) return std::nullopt;
        return fmt::format("task {} ({})", int_at(holder, 0, 0), holder.text(0, 1));
      },
      requeued_before);
}

std::vector<queue::TaskId> PgTaskStore::requeue(std::span<const queue::TaskId> ids, const queue::DeadFilter& filter,
                                                DryRun dry_run, const util::ProgressCallback& progress) {
  if (ids.empty() && dry_run == DryRun::no) return requeue_all(filter, progress);
  Transaction tx(m_connection);
  auto now = m_clock.now();
  std::vector<queue::Task> dead;
  if (ids.empty()) {
    dead = select_dead(filter, -1, std::nullopt, true);
  } else {
    for (auto id : ids) {
      // Locked, so that a concurrent requeue of the same task waits and then finds it pending.
      const Result r =
          m_connection.exec_params("SELECT " OOS_PG_TASK_COLUMNS " FROM tasks WHERE id = $1 FOR UPDATE", {param(id)});
      if (r.rows() == 0) throw queue::task_not_found(id);
      auto task = rows::read_task(r, 0);
      if (task.status != TaskStatus::dead) throw queue::cannot_requeue(id, task.status);
      dead.push_back(std::move(task));
    }
  }
  refuse_unique_key_conflicts(dead);
  auto selected = queue::ids_of(dead);
  if (dry_run == DryRun::yes) return selected;
  requeue_locked(dead, now);
  tx.commit();
  queue::log_requeued(m_logger, selected);
  return selected;
}

// The whole selection's keys are checked first, so that the refusals a requeue expects (two dead tasks of one key,
// a key an active task held before the command) change nothing; each batch checks its own again under the keys'
// locks. The check's transaction holds the keys' locks to its end: to the end of the caller's when it nests in one
// (oos-api's request), whose batches then meet no key taken meanwhile. A batch locks its rows (FOR UPDATE), as the
// requeue of ids does.
std::vector<queue::TaskId> PgTaskStore::requeue_all(const queue::DeadFilter& filter,
                                                    const util::ProgressCallback& progress) {
  {
    Transaction tx(m_connection);
    refuse_unique_key_conflicts(dead_with_unique_keys(filter));
    tx.commit();
  }
  auto batch = [&](std::optional<queue::TaskId> before, std::size_t requeued_before) {
    Transaction tx(m_connection);
    auto now = m_clock.now();
    auto dead = select_dead(filter, queue::k_requeue_batch, before, true);
    refuse_unique_key_conflicts(dead, requeued_before);
    requeue_locked(dead, now);
    tx.commit();
    auto selected = queue::ids_of(dead);
    queue::log_requeued(m_logger, selected);
    return selected;
  };
  return queue::requeue_in_batches(progress ? count_dead(filter) : 0, batch, progress);
}

void PgTaskStore::requeue_locked(const std::vector<queue::Task>& dead, util::UnixMillis now) {
  for (const auto& task : dead) {
    m_connection.exec_params(
        "UPDATE tasks SET status = 'pending', attempts = 0, replays = replays + 1, run_at = $1, updated_at = $1, "
        "finished_at = NULL WHERE id = $2 AND status = 'dead'",
        {param(now), param(task.id)});
    record_event(m_connection, now, "task.requeue", fmt::format("task/{}", task.id), "dead -> pending");
  }
  std::vector<std::string_view> requeued;
  for (const auto& task : dead)
    if (std::find(requeued.begin(), requeued.end(), std::string_view(task.queue)) == requeued.end())
      requeued.push_back(task.queue);
  if (!requeued.empty()) notify_runnable(m_connection, requeued);
}

// Each batch is a transaction of its own that deletes at most k_purge_batch tasks (their attempts cascade), so a
// purge of millions never holds its locks for long. The batches walk the ids upwards from where the last one
// stopped: one pass over the table per queue and kind, not one per batch. Rows another transaction holds are
// skipped (SKIP LOCKED), and the conditions are checked again on the row the DELETE locks.
queue::PurgeResult PgTaskStore::purge(const queue::PurgeOptions& options) {
  const bool dry = options.dry_run == DryRun::yes;
  auto now = m_clock.now();
  std::vector<std::string> queues;
  {
    const Result r = m_connection.exec_params("SELECT name FROM queues ORDER BY name");
    for (int i = 0; i < r.rows(); ++i) queues.emplace_back(r.text(i, 0));
  }
  auto count_or_delete = [&](std::string_view status, const std::string& queue, util::UnixMillis cutoff) {
    if (dry)
      return int_at(
          m_connection.exec_params("SELECT count(*) FROM tasks WHERE queue = $1 AND status = $2 AND finished_at < $3",
                                   {queue, std::string(status), param(cutoff)}),
          0, 0);
    std::int64_t deleted = 0;
    std::int64_t after = 0;
    for (;;) {
      const Result r = m_connection.exec_params(
          "WITH gone AS (DELETE FROM tasks WHERE id IN (SELECT id FROM tasks WHERE id > $1 AND queue = $2 AND "
          "status = $3 AND finished_at < $4 ORDER BY id LIMIT $5 FOR UPDATE SKIP LOCKED) AND queue = $2 AND "
          "status = $3 AND finished_at < $4 RETURNING id) SELECT count(*), coalesce(max(id), 0) FROM gone",
          {param(after), queue, std::string(status), param(cutoff), param(k_purge_batch)});
      const std::int64_t n = int_at(r, 0, 0);
      deleted += n;
      if (n == 0) break;
      after = int_at(r, 0, 1);
    }
    return deleted;
  };
  queue::PurgeResult result;
  for (const auto& queue : queues) {
    const auto& settings = m_config.queue_settings(queue);
    if (options.dead)
      result.dead += count_or_delete("dead", queue, now - options.older_than.value_or(settings.dead_retention).count());
    if (options.succeeded)
      result.succeeded +=
          count_or_delete("succeeded", queue, now - options.older_than.value_or(settings.succeeded_retention).count());
  }
  if (dry) return result;
  Transaction tx(m_connection);
  // Old minutes are folded into the minute-0 row (shard 0), so the run totals stay whole. One statement deletes
  // and folds what it deleted: a concurrent purge waits for the rows, finds them gone and folds nothing twice.
  auto before = now / 60'000 - queue::k_counter_minutes_kept;
  m_connection.exec_params(
      "WITH old AS (DELETE FROM queue_counters WHERE minute > 0 AND minute < $1 RETURNING queue, runs, failures, "
      "run_ms) INSERT INTO queue_counters (queue, minute, shard, runs, failures, run_ms) "
      "SELECT queue, 0, 0, sum(runs), sum(failures), sum(run_ms) FROM old GROUP BY queue "
      "ON CONFLICT (queue, minute, shard) DO UPDATE SET runs = queue_counters.runs + excluded.runs, "
      "failures = queue_counters.failures + excluded.failures, run_ms = queue_counters.run_ms + excluded.run_ms",
      {param(before)});
  if (result.dead > 0 || result.succeeded > 0)
    record_event(m_connection, now, "task.purge", "tasks",
                 fmt::format("{} dead and {} succeeded tasks deleted", result.dead, result.succeeded));
  tx.commit();
  return result;
}

}  // namespace oos::pg
