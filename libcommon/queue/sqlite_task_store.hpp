// The task store on SQLite: the state directory's oos.db, one writer at a time under BEGIN IMMEDIATE
// (docs/reference.md section 5). All SQLite SQL of the task lifecycle lives here.
#pragma once

#include "breaker/sqlite_breaker_store.hpp"
#include "config.hpp"
#include "db/database.hpp"
#include "log.hpp"
#include "queue/task_store.hpp"
#include "util/random.hpp"

namespace oos::queue {

// Overrides repeat the interface's default arguments (they are bound by the static type).
class SqliteTaskStore final : public TaskStore {
 public:
  SqliteTaskStore(db::Database& db, const config::Config& config, const util::Clock& clock, log::Logger& logger);

  EnqueueResult enqueue(const NewTask& task) override;
  std::vector<EnqueueResult> enqueue_batch(std::span<const NewTask> tasks) override;
  std::optional<ClaimedTask> claim(std::span<const std::string> queues, std::string_view worker,
                                   std::optional<util::Millis> lease_for = std::nullopt) override;
  bool renew(Lease& lease, std::string_view queue, std::optional<util::Millis> lease_for = std::nullopt) override;
  Fence complete(const Lease& lease, std::string_view result, std::optional<int> exit_code = 0) override;
  FailOutcome fail(const Lease& lease, const Failure& failure) override;
  RecordAndClaim record_and_claim(const Lease& lease, const RunRecord& run, std::span<const std::string> queues,
                                  std::string_view worker) override;
  Fence release(const Lease& lease, util::UnixMillis not_before = 0) override;
  int reclaim_expired() override;
  void cancel(TaskId id) override;
  std::vector<TaskId> requeue(std::span<const TaskId> ids, const DeadFilter& filter, DryRun dry_run,
                              const util::ProgressCallback& progress = {}) override;
  PurgeResult purge(const PurgeOptions& options) override;
  std::optional<util::UnixMillis> next_run_at(std::span<const std::string> queues) override;
  std::int64_t runnable_count(std::span<const std::string> queues) override;
  std::optional<Task> find(TaskId id) override;
  bool holds(const Lease& lease) override;
  std::vector<Attempt> attempts(TaskId id) override;
  std::vector<Task> list(const std::string& queue, std::optional<TaskStatus> status, std::int64_t limit,
                         std::optional<TaskId> before = std::nullopt) override;
  std::vector<Task> list_dead(const DeadFilter& filter, std::int64_t limit,
                              std::optional<TaskId> before = std::nullopt) override;
  std::vector<TaskId> ids_between(TaskId low, TaskId high, std::optional<TaskStatus> status, std::int64_t limit,
                                  std::int64_t window) override;

 private:
  // Throws oos::Error 1 naming the first of `dead` whose unique key is taken (see requeue).
  void refuse_unique_key_conflicts(const std::vector<Task>& dead, std::size_t requeued_before = 0);
  // requeue() of every dead task matching `filter`, in batches (queue::requeue_in_batches).
  std::vector<TaskId> requeue_all(const DeadFilter& filter, const util::ProgressCallback& progress);
  // Puts the dead tasks `ids` back to pending inside the caller's transaction, an event each.
  void requeue_locked(std::span<const TaskId> ids, util::UnixMillis now);
  // Dead tasks matching `filter`: how many; those with a unique key, newest first (id, queue and key only).
  std::int64_t count_dead(const DeadFilter& filter);
  std::vector<Task> dead_with_unique_keys(const DeadFilter& filter);
  // Binds `filter` to ?1 (queue), ?2 (type) and ?3 (error_match).
  static void bind_filter(SQLite::Statement& q, const DeadFilter& filter);
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
                                          util::UnixMillis now, std::optional<util::Millis> lease_for);
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
  breaker::SqliteBreakerStore m_breakers;
  util::Rng m_rng;
};

}  // namespace oos::queue
