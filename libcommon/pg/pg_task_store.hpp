// The task store on PostgreSQL (docs/reference.md sections 5 and 19): one queue shared by the workers of many
// hosts, with the semantics of queue::SqliteTaskStore (exit codes, fencing, history, events, log lines). Where
// SQLite has one writer, here claims pass each other (FOR UPDATE SKIP LOCKED), fenced writes are one UPDATE on
// the lease token, and the reclaim skips rows a completion holds. Each call runs in a transaction of its own on
// `connection` (one connection per thread).
#pragma once

#include "config.hpp"
#include "log.hpp"
#include "pg/connection.hpp"
#include "pg/pg_breaker_store.hpp"
#include "queue/task_store.hpp"
#include "util/random.hpp"

namespace oos::pg {

// Overrides repeat the interface's default arguments (they are bound by the static type).
class PgTaskStore final : public queue::TaskStore {
 public:
  PgTaskStore(Connection& connection, const config::Config& config, const util::Clock& clock, log::Logger& logger);

  queue::EnqueueResult enqueue(const queue::NewTask& task) override;
  std::vector<queue::EnqueueResult> enqueue_batch(std::span<const queue::NewTask> tasks) override;
  std::optional<queue::ClaimedTask> claim(std::span<const std::string> queues, std::string_view worker,
                                          std::optional<util::Millis> lease_for = std::nullopt) override;
  bool renew(queue::Lease& lease, std::string_view queue,
             std::optional<util::Millis> lease_for = std::nullopt) override;
  queue::Fence complete(const queue::Lease& lease, std::string_view result, std::optional<int> exit_code = 0) override;
  queue::FailOutcome fail(const queue::Lease& lease, const queue::Failure& failure) override;
  queue::RecordAndClaim record_and_claim(const queue::Lease& lease, const queue::RunRecord& run,
                                         std::span<const std::string> queues, std::string_view worker) override;
  queue::Fence release(const queue::Lease& lease, util::UnixMillis not_before = 0) override;
  int reclaim_expired() override;
  void cancel(queue::TaskId id) override;
  std::vector<queue::TaskId> requeue(std::span<const queue::TaskId> ids, const queue::DeadFilter& filter,
                                     DryRun dry_run, const util::ProgressCallback& progress = {}) override;
  queue::PurgeResult purge(const queue::PurgeOptions& options) override;
  std::optional<util::UnixMillis> next_run_at(std::span<const std::string> queues) override;
  std::int64_t runnable_count(std::span<const std::string> queues) override;
  std::optional<queue::Task> find(queue::TaskId id) override;
  bool holds(const queue::Lease& lease) override;
  std::vector<queue::Attempt> attempts(queue::TaskId id) override;
  std::vector<queue::Task> list(const std::string& queue, std::optional<queue::TaskStatus> status, std::int64_t limit,
                                std::optional<queue::TaskId> before = std::nullopt) override;
  std::vector<queue::Task> list_dead(const queue::DeadFilter& filter, std::int64_t limit,
                                     std::optional<queue::TaskId> before = std::nullopt) override;
  std::vector<queue::TaskId> ids_between(queue::TaskId low, queue::TaskId high, std::optional<queue::TaskStatus> status,
                                         std::int64_t limit, std::int64_t window) override;

  // Finished tasks one purge transaction deletes at most: each batch commits, so no lock is held for long.
  static constexpr int k_purge_batch = 1000;

 private:
  // The fields of a running task that failure handling needs.
  struct RunningRow {
    queue::TaskId id = 0;
    std::string queue;
    int attempts = 0;
    int max_attempts = 0;
    std::optional<util::UnixMillis> started_at;
    std::optional<std::string> worker;
    int replays = 0;
  };
  // The columns of OOS_PG_RUNNING_COLUMNS (pg/task_sql.hpp), first in a row (RunningRow reads all but `runs`).
  static constexpr int k_running_columns = 8;
  static RunningRow read_running_row(const Result& r, int row);
  // Lists the queue in `queues` (where status finds it) unless it is there already.
  void register_queue(const std::string& queue, util::UnixMillis now);
  queue::EnqueueResult insert(const queue::NewTask& task, util::UnixMillis now);
  // `queues` without those whose breaker is open (the claim's statement leaves out the paused ones). With
  // `probes`, a cooled-down breaker is locked (its advisory lock, without waiting: a breaker another claimer is
  // deciding is skipped) and read again, and added to `probes` if it still admits a probe; without, it counts as
  // admitted.
  std::vector<std::string> admitted_queues(std::span<const std::string> queues, util::UnixMillis now,
                                           std::vector<breaker::NamedBreaker>* probes);
  // The lease length of each of `queues`, in its order (the claim's parameter): `lease_for` for all when given.
  std::vector<std::int64_t> lease_lengths(std::span<const std::string> queues,
                                          std::optional<util::Millis> lease_for) const;
  // The task a claim leased with `token`, in the columns from `first_column` of the result's first row (NULL or no
  // row: none).
  static std::optional<queue::ClaimedTask> claimed_task(const Result& r, int first_column, const std::string& token,
                                                        util::UnixMillis now);
  // claim_locked() in a transaction of its own: the claim when a breaker of `queues` is not closed.
  std::optional<queue::ClaimedTask> claim_with_breakers(std::span<const std::string> queues, std::string_view worker,
                                                        util::UnixMillis now, std::optional<util::Millis> lease_for);
  // The bodies of claim(), complete() and fail() inside the caller's transaction.
  std::optional<queue::ClaimedTask> claim_locked(std::span<const std::string> queues, std::string_view worker,
                                                 util::UnixMillis now, std::optional<util::Millis> lease_for);
  queue::Fence complete_locked(const queue::Lease& lease, std::string_view result, std::optional<int> exit_code,
                               util::UnixMillis now);
  queue::FailOutcome fail_fenced(const queue::Lease& lease, const queue::Failure& failure, util::UnixMillis now);
  // Records a failed run of a row this transaction holds; the attempt's outcome is named after the failure kind
  // unless `outcome_override` is given ("lost" for a reclaimed lease).
  queue::FailOutcome fail_locked(const RunningRow& row, const queue::Failure& failure, util::UnixMillis now,
                                 std::string_view outcome_override = {});
  // Takes the advisory locks of the unique keys of `tasks` (or of `keys`, "queue/key"), held to the commit: an
  // enqueue and a requeue of one key take turns, so the requeue's check of the key's holder stays true until it
  // commits (else the enqueue's insert could slip in between and the requeue fail on the unique index).
  void lock_unique_keys(std::span<const queue::NewTask> tasks);
  void lock_keys(std::span<const std::string> keys);
  // Throws oos::Error 1 naming the first of `dead` whose unique key is taken (see requeue), under the keys' locks.
  void refuse_unique_key_conflicts(const std::vector<queue::Task>& dead, std::size_t requeued_before = 0);
  // requeue() of every dead task matching `filter`, in batches (queue::requeue_in_batches).
  std::vector<queue::TaskId> requeue_all(const queue::DeadFilter& filter, const util::ProgressCallback& progress);
  // Puts `dead` (rows this transaction holds) back to pending, an event each, and tells the workers of their queues.
  void requeue_locked(const std::vector<queue::Task>& dead, util::UnixMillis now);
  // Dead tasks matching `filter`; `lock`: FOR UPDATE (requeue).
  std::vector<queue::Task> select_dead(const queue::DeadFilter& filter, std::int64_t limit,
                                       std::optional<queue::TaskId> before, bool lock);
  // Dead tasks matching `filter`: how many; those with a unique key, newest first (id, queue and key only).
  std::int64_t count_dead(const queue::DeadFilter& filter);
  std::vector<queue::Task> dead_with_unique_keys(const queue::DeadFilter& filter);

  Connection& m_connection;
  const config::Config& m_config;
  const util::Clock& m_clock;
  log::Logger& m_logger;
  PgBreakerStore m_breakers;
  util::Rng m_rng;
};

}  // namespace oos::pg
