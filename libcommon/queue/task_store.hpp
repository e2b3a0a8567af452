// The task queue's storage and lifecycle (docs/reference.md section 5): enqueue, claim with a lease, renewal,
// fenced completion and failure with retry/backoff/dead-lettering, reclaim of expired leases, cancel,
// requeue from the dead letter queue and retention purge. All SQL of the task lifecycle lives here.
#pragma once

#include <span>
#include <vector>

#include "breaker/breaker_store.hpp"
#include "config.hpp"
#include "db/database.hpp"
#include "dry_run.hpp"
#include "log.hpp"
#include "queue/task.hpp"
#include "util/random.hpp"
#include "util/time.hpp"

namespace oos::queue {

// Which dead tasks a requeue or listing selects; empty fields match everything.
struct DeadFilter {
  std::optional<std::string> queue;
  std::optional<std::string> type;
  std::optional<std::string> error_match;  // substring of last_error
};

// What purge() deletes: finished tasks of the chosen kinds older than their queue's retention, or than
// `older_than` when given.
struct PurgeOptions {
  bool dead = true;
  bool succeeded = true;
  std::optional<util::Millis> older_than;
  DryRun dry_run = DryRun::no;
};

struct PurgeResult {
  std::int64_t dead = 0;
  std::int64_t succeeded = 0;
};

// A finished run as the worker reports it.
struct RunRecord {
  bool succeeded = false;
  std::string result;  // when succeeded
  Failure failure;     // when not
};

struct RecordAndClaim {
  FailOutcome recorded;  // fence; status succeeded, pending (a retry) or dead when applied
  std::optional<ClaimedTask> next;
};

// The error of a payload over the queue's max_payload: "payload is larger than 1 MiB (queue.max_payload)".
std::string payload_too_large(std::uint64_t max_payload);

class TaskStore {
 public:
  TaskStore(db::Database& db, const config::Config& config, const util::Clock& clock, log::Logger& logger);

  // Adds one task in its own transaction. Throws oos::Error 65 for an invalid name or payload
  // (not JSON, nested deeper than util::k_max_json_depth, larger than the queue's max_payload).
  EnqueueResult enqueue(const NewTask& task);

  // Adds all tasks in one transaction: all or none.
  std::vector<EnqueueResult> enqueue_batch(std::span<const NewTask> tasks);

  // Claims the next runnable task of `queues` for `worker`: highest priority, then earliest run_at, then
  // lowest id, skipping paused queues and queues whose breaker is open. nullopt when nothing is runnable.
  std::optional<ClaimedTask> claim(std::span<const std::string> queues, std::string_view worker);

  // Extends the lease by the queue's lease period. False when the lease is no longer ours.
  bool renew(Lease& lease, std::string_view queue);

  // Marks the task succeeded with `result`, if `lease` is still current.
  Fence complete(const Lease& lease, std::string_view result, std::optional<int> exit_code = 0);

  // Records a failed attempt, if `lease` is still current: retry after the backoff delay, or dead.
  FailOutcome fail(const Lease& lease, const Failure& failure);

  // complete() or fail() for `run`, and claim() of the next task, in one transaction: one commit (one
  // fsync) per task instead of two, and one turn at the write lock when several workers share it.
  RecordAndClaim record_and_claim(const Lease& lease, const RunRecord& run, std::span<const std::string> queues,
                                  std::string_view worker);

  // Hands the task back without counting the run (the worker is shutting down): pending at once.
  Fence release(const Lease& lease);

  // Treats every running task whose lease expired as a failed attempt ("lease expired (worker lost)").
  // Returns how many were reclaimed.
  int reclaim_expired();

  // Cancels a pending task. Throws oos::Error 66 if there is no such task, 1 if it is not pending.
  void cancel(TaskId id);

  // Puts dead tasks back to pending with attempts reset and replays + 1. `ids` empty: every dead task
  // matching `filter`. Returns the ids requeued (or that would be, with DryRun::yes). Throws 66 for an
  // unknown id, 1 for a task that is not dead and 1 when a task's unique key is held by a pending or running
  // task (or by another task of the same requeue): nothing is requeued then, dry run or not.
  std::vector<TaskId> requeue(std::span<const TaskId> ids, const DeadFilter& filter, DryRun dry_run);

  // Deletes finished tasks past their retention (see PurgeOptions); with DryRun::yes only counts them.
  PurgeResult purge(const PurgeOptions& options);

  // The earliest run_at of a pending task that claim() could take from `queues` once due (paused queues
  // and open breakers excluded); nullopt when there is none. `oos-worker --drain` waits for it.
  std::optional<util::UnixMillis> next_run_at(std::span<const std::string> queues);
  // Runnable pending tasks of `queues` (the worker's queue depth).
  std::int64_t runnable_count(std::span<const std::string> queues);

  std::optional<Task> find(TaskId id);
  std::vector<Attempt> attempts(TaskId id);
  // Tasks of `queue`, optionally of one status, newest first; with `before`, only those of smaller id (the
  // next page of a keyset pagination: a walk of the rowid downwards, no OFFSET). `limit` -1: all.
  std::vector<Task> list(const std::string& queue, std::optional<TaskStatus> status, std::int64_t limit,
                         std::optional<TaskId> before = std::nullopt);
  // Dead tasks matching `filter`, newest first; `before` and `limit` as for list().
  std::vector<Task> list_dead(const DeadFilter& filter, std::int64_t limit,
                              std::optional<TaskId> before = std::nullopt);

 private:
  // Throws oos::Error 1 naming the first of `dead` whose unique key is taken (see requeue).
  void refuse_unique_key_conflicts(const std::vector<Task>& dead);
  struct RunningRow;
  // Lists the queue in `queues` (where status finds it) unless it is there already.
  void register_queue(const std::string& queue, util::UnixMillis now);
  EnqueueResult insert(const NewTask& task, util::UnixMillis now);
  // The running task `lease` still owns, read inside the caller's transaction; nullopt (and a warning
  // naming the late `what`) when the lease is no longer current.
  std::optional<RunningRow> running_row(const Lease& lease, std::string_view what);
  static RunningRow read_running_row(SQLite::Statement& q);
  // The bodies of claim() and complete() inside the caller's transaction.
  std::optional<ClaimedTask> claim_locked(std::span<const std::string> queues, std::string_view worker,
                                          util::UnixMillis now);
  Fence complete_locked(const Lease& lease, std::string_view result, std::optional<int> exit_code,
                        util::UnixMillis now);
  // `queues` without the paused ones and those whose breaker is open; cooled-down breakers that may let
  // a probe through are added to `probes`.
  std::vector<std::string> eligible_queues(std::span<const std::string> queues, util::UnixMillis now,
                                           std::vector<breaker::NamedBreaker>& probes);
  // Records a failed run inside the caller's transaction; the attempt's outcome is named after the failure
  // kind unless `outcome_override` is given ("lost" for a reclaimed lease).
  FailOutcome fail_locked(const RunningRow& row, const Failure& failure, util::UnixMillis now,
                          std::string_view outcome_override = {});
  void record_attempt(const RunningRow& row, std::string_view outcome, std::optional<int> exit_code,
                      const std::optional<std::string>& error, util::UnixMillis now);

  db::Database& m_db;
  const config::Config& m_config;
  const util::Clock& m_clock;
  log::Logger& m_logger;
  breaker::BreakerStore m_breakers;
  util::Rng m_rng;
};

}  // namespace oos::queue
