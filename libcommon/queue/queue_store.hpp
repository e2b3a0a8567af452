// Queue-level state and views: pause/resume flags, the per-queue counts of `oos-queue status`, the
// detail of `oos-queue stats`, and the depth alert. QueueStore is an interface with two implementations:
// SqliteQueueStore (queue/sqlite_queue_store.hpp) and pg::PgQueueStore (PostgreSQL).
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "breaker/breaker_store.hpp"
#include "config.hpp"
#include "error.hpp"
#include "util/time.hpp"

namespace oos::queue {

struct QueueCounts {
  std::int64_t pending = 0;   // all pending, runnable or not
  std::int64_t runnable = 0;  // pending with run_at <= now
  std::int64_t retrying = 0;  // pending after at least one failed attempt
  std::int64_t running = 0;
  std::int64_t succeeded = 0;
  std::int64_t dead = 0;
  std::int64_t cancelled = 0;
  std::optional<util::UnixMillis> oldest_runnable_since;  // run_at of the longest-waiting runnable task
};

// Runs of a queue's tasks since its counters began (the sum of its queue_counters rows: purge() folds old
// minutes into the minute-0 row). They only grow, except when a backup is restored: counters for metrics.
struct RunTotals {
  std::int64_t runs = 0;
  std::int64_t failures = 0;  // runs that did not succeed (failed, temporary, permanent, lost)
  std::int64_t run_ms = 0;    // time the runs took
};

struct QueueStatus {
  std::string name;
  QueueCounts counts;
  RunTotals totals;
  bool paused = false;
  policy::BreakerRecord breaker;
  std::vector<std::string> alerts;  // depth over queue.depth_alert, breaker open
};

struct QueueStats {
  QueueStatus status;
  std::int64_t runs_last_hour = 0;
  std::int64_t failures_last_hour = 0;  // attempts that did not succeed
  std::optional<double> mean_run_ms;    // over the last hour's runs
};

// Runs and failures of one minute or one hour (the queue_counters minute rows summed).
struct ActivityBucket {
  util::UnixMillis start = 0;  // the bucket's first millisecond
  std::int64_t runs = 0;
  std::int64_t failures = 0;  // runs that did not succeed
};

// The dashboard's chart: the last 60 minutes and the last 24 hours (the current one included), oldest first.
struct Activity {
  std::vector<ActivityBucket> minutes;  // 60 buckets of a minute
  std::vector<ActivityBucket> hours;    // 24 buckets of an hour (the counters keep a day: the oldest may be partial)
};

// The error for a queue that does not exist (66): "queue 'NAME' not found: it has no tasks and no [queues.NAME]
// settings", the same for the CLI and the API.
Error unknown_queue(const std::string& name);

// Alerts for a queue in this state; pure.
std::vector<std::string> queue_alerts(const QueueCounts& counts, const policy::BreakerRecord& breaker,
                                      const config::QueueSettings& settings);

class QueueStore {
 public:
  virtual ~QueueStore() = default;

  // Sets or clears the paused flag (an event and a log line when it changes). Returns whether it changed.
  virtual bool set_paused(const std::string& queue, bool paused, util::UnixMillis now) = 0;

  // Whether the queue is known: it has tasks, a flag, a breaker, or a [queues.NAME] table.
  virtual bool exists(const std::string& queue) = 0;
  // Throws unknown_queue(queue) unless exists(queue).
  void require_known(const std::string& queue);

  // The name of every known queue (a [queues.NAME] table, the `queues` rows, a queue breaker), sorted: no count
  // is read (the shell completion's queue names).
  virtual std::vector<std::string> names() = 0;

  // Every known queue, sorted by name.
  virtual std::vector<QueueStatus> status(util::UnixMillis now) = 0;

  // One queue in detail; nullopt when unknown.
  virtual std::optional<QueueStats> stats(const std::string& queue, util::UnixMillis now) = 0;

  // Runs and failures per minute and per hour of `queue`, or of every queue when nullopt (an unknown queue has
  // only zeros).
  virtual Activity activity(const std::optional<std::string>& queue, util::UnixMillis now) = 0;

  // Per queue, the tasks dead-lettered at or after `since` that are still dead (oos-health's dead letter
  // growth). Reads every dead task row: for a check, not for a hot path.
  virtual std::map<std::string, std::int64_t> dead_since(util::UnixMillis since) = 0;

  virtual breaker::BreakerStore& breakers() = 0;
};

}  // namespace oos::queue
