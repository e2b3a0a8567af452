// The task queue's storage and lifecycle (docs/reference.md section 5) as one interface: enqueue, claim with a
// lease, renewal, fenced completion and failure with retry/backoff/dead-lettering, reclaim of expired leases,
// cancel, requeue from the dead letter queue and retention purge. Two implementations keep the same semantics:
// SqliteTaskStore (queue/sqlite_task_store.hpp, the state directory's oos.db) and pg::PgTaskStore (PostgreSQL,
// docs/reference.md section 19). Tools and policies hold a TaskStore& and do not know which one runs.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dry_run.hpp"
#include "error.hpp"
#include "queue/task.hpp"
#include "util/progress.hpp"
#include "util/time.hpp"

namespace oos::config {
struct Config;
}
namespace oos::log {
class Logger;
}

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

// Checks a task before it is stored: throws oos::Error 65 for an invalid queue or type name, a payload that is
// not JSON, nested deeper than util::k_max_json_depth or larger than the queue's max_payload, max_attempts
// below 1 or a delay out of range.
void validate(const NewTask& task, const config::Config& config);

// The outcome a failed run of `kind` has in its task's history: failed, temporary or permanent.
std::string_view outcome_name(policy::FailureKind kind);

// What both stores say, word for word (the store suite runs on both): the errors of cancel and requeue, the
// unique-key refusal, the late-write and reclaim warnings.
Error task_not_found(TaskId id);
Error cannot_cancel(TaskId id, TaskStatus status);   // 1: only pending tasks can be cancelled
Error cannot_requeue(TaskId id, TaskStatus status);  // 1: only dead tasks can be requeued
// The failure a reclaimed lease records (outcome "lost").
Failure lost_lease();
void warn_late(log::Logger& logger, TaskId id, std::string_view what);
// The ids of `tasks`, in order.
std::vector<TaskId> ids_of(const std::vector<Task>& tasks);
// The info line of each task a requeue put back (after its commit).
void log_requeued(log::Logger& logger, std::span<const TaskId> ids);
void warn_reclaimed(log::Logger& logger, TaskId id, const std::optional<std::string>& worker, const std::string& queue,
                    TaskStatus after);
// Throws oos::Error 1 naming the first of `dead` whose unique key is held: by a pending or running task, which
// `active_holder` names ("task 7 (running)") or nullopt, or by an earlier task of the same requeue. The message
// says nothing is requeued, or, with `requeued_before` > 0 (a batch after the first), that the earlier batches'
// tasks stay requeued.
void refuse_unique_key_conflicts(const std::vector<Task>& dead,
                                 const std::function<std::optional<std::string>(const Task&)>& active_holder,
                                 std::size_t requeued_before = 0);

// The dead tasks one transaction of a requeue of every matching task puts back at most: each batch commits, so a
// large dead letter queue never holds the write lock (or its rows' locks) for long (docs/decisions.md).
inline constexpr std::int64_t k_requeue_batch = 1000;

// A requeue's batch: requeues (in a transaction of its own) up to k_requeue_batch dead tasks, newest first, of ids
// below `before` (all when nullopt), `requeued_before` tasks having been requeued already; returns their ids.
using RequeueBatch = std::function<std::vector<TaskId>(std::optional<TaskId> before, std::size_t requeued_before)>;

// The loop of a requeue in batches that both stores run: reports 0 of `total` (counted first), then runs `batch`
// from the newest task down, each time below the last task it requeued, until one requeues none, and reports the
// tasks done after each (stage "", unit tasks; a total that tasks dying meanwhile passed grows to the done).
// Returns the ids requeued, newest first.
std::vector<TaskId> requeue_in_batches(std::int64_t total, const RequeueBatch& batch,
                                       const util::ProgressCallback& progress);

// Per-minute run counters are kept this long (for stats, metrics and the dashboard), then folded by purge().
inline constexpr std::int64_t k_counter_minutes_kept = 24 * 60;

// The error of a payload over the queue's max_payload: "payload is larger than 1 MiB (queue.max_payload)".
std::string payload_too_large(std::uint64_t max_payload);

class TaskStore {
 public:
  virtual ~TaskStore() = default;

  // Adds one task in its own transaction. Throws oos::Error 65 for an invalid name or payload
  // (not JSON, nested deeper than util::k_max_json_depth, larger than the queue's max_payload).
  virtual EnqueueResult enqueue(const NewTask& task) = 0;

  // Adds all tasks in one transaction: all or none.
  virtual std::vector<EnqueueResult> enqueue_batch(std::span<const NewTask> tasks) = 0;

  // Claims the next runnable task of `queues` for `worker`: highest priority, then earliest run_at, then
  // lowest id, skipping paused queues and queues whose breaker is open. nullopt when nothing is runnable.
  // The lease lasts `lease_for` when given (oos-queue claim --lease), else the task's queue's lease.
  virtual std::optional<ClaimedTask> claim(std::span<const std::string> queues, std::string_view worker,
                                           std::optional<util::Millis> lease_for = std::nullopt) = 0;

  // Extends the lease to `lease_for` from now when given, else to the queue's lease period. False when the
  // lease is no longer ours.
  virtual bool renew(Lease& lease, std::string_view queue, std::optional<util::Millis> lease_for = std::nullopt) = 0;

  // Marks the task succeeded with `result`, if `lease` is still current.
  virtual Fence complete(const Lease& lease, std::string_view result, std::optional<int> exit_code = 0) = 0;

  // Records a failed attempt, if `lease` is still current: retry after the backoff delay, or dead.
  virtual FailOutcome fail(const Lease& lease, const Failure& failure) = 0;

  // complete() or fail() for `run`, and claim() of the next task, in one transaction: one commit (one
  // fsync) per task instead of two, and one turn at the write lock when several workers share it.
  virtual RecordAndClaim record_and_claim(const Lease& lease, const RunRecord& run, std::span<const std::string> queues,
                                          std::string_view worker) = 0;

  // Hands the task back without counting the run (the worker is shutting down, or the run's key was spent):
  // pending at once, or at `not_before` when that is later (every key of its ring cools down until then).
  virtual Fence release(const Lease& lease, util::UnixMillis not_before = 0) = 0;

  // Treats every running task whose lease expired as a failed attempt ("lease expired (worker lost)").
  // Returns how many were reclaimed.
  virtual int reclaim_expired() = 0;

  // Cancels a pending task. Throws oos::Error 66 if there is no such task, 1 if it is not pending.
  virtual void cancel(TaskId id) = 0;

  // Puts dead tasks back to pending with attempts reset and replays + 1. Returns the ids requeued (or that would
  // be, with DryRun::yes). Throws 66 for an unknown id, 1 for a task that is not dead and 1 when a task's unique
  // key is held by a pending or running task (or by another task of the same requeue): nothing is requeued then,
  // dry run or not. `ids` empty: every dead task matching `filter`, newest first; for real (not a dry run) in
  // transactions of k_requeue_batch tasks (requeue_in_batches, which reports to `progress`), after a check of the
  // whole selection's unique keys. Only a key taken after that check, by a task enqueued meanwhile, refuses a
  // batch after the first: the earlier batches stay requeued then, as after a crash (docs/decisions.md).
  virtual std::vector<TaskId> requeue(std::span<const TaskId> ids, const DeadFilter& filter, DryRun dry_run,
                                      const util::ProgressCallback& progress = {}) = 0;

  // Deletes finished tasks past their retention (see PurgeOptions); with DryRun::yes only counts them.
  virtual PurgeResult purge(const PurgeOptions& options) = 0;

  // The earliest run_at of a pending task that claim() could take from `queues` once due (paused queues
  // and open breakers excluded); nullopt when there is none. `oos-worker --drain` waits for it.
  virtual std::optional<util::UnixMillis> next_run_at(std::span<const std::string> queues) = 0;
  // Runnable pending tasks of `queues` (the worker's queue depth).
  virtual std::int64_t runnable_count(std::span<const std::string> queues) = 0;

  virtual std::optional<Task> find(TaskId id) = 0;
  // Whether `lease` (its task id and token) is the current lease of its running task and has not expired: a read
  // without a warning, for a caller that refuses a stale token itself (the fenced writes check again).
  virtual bool holds(const Lease& lease) = 0;
  virtual std::vector<Attempt> attempts(TaskId id) = 0;
  // Tasks of `queue`, optionally of one status, newest first; with `before`, only those of smaller id (the
  // next page of a keyset pagination: a walk of the rowid downwards, no OFFSET). `limit` -1: all.
  virtual std::vector<Task> list(const std::string& queue, std::optional<TaskStatus> status, std::int64_t limit,
                                 std::optional<TaskId> before = std::nullopt) = 0;
  // Dead tasks matching `filter`, newest first; `before` and `limit` as for list().
  virtual std::vector<Task> list_dead(const DeadFilter& filter, std::int64_t limit,
                                      std::optional<TaskId> before = std::nullopt) = 0;
  // Up to `limit` ids in [low, high], highest first; with `status`, only the tasks of that status among the
  // `window` highest ids of the range: a bounded walk down the primary key, whatever the table holds (the shell
  // completion's task ids, queue/id_completion.hpp).
  virtual std::vector<TaskId> ids_between(TaskId low, TaskId high, std::optional<TaskStatus> status, std::int64_t limit,
                                          std::int64_t window) = 0;
};

}  // namespace oos::queue
