// The worker of docs/reference.md sections 5-7 as a state machine driven by step(): claim a task, run its handler
// (a child process, or a function for built-in types), renew the lease while it runs, enforce the timeout,
// write the outcome, and on a stop request hand the task back if it does not finish within the grace.
// Each step does a bounded amount of work, so the loop around it (runner.hpp) can ping the watchdog,
// report status and notice signals; tests drive the steps directly.
#pragma once

#include <csignal>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <SQLiteCpp/Exception.h>

#include "config.hpp"
#include "log.hpp"
#include "queue/task_store.hpp"
#include "store/backend.hpp"
#include "util/time.hpp"
#include "worker/handler.hpp"
#include "worker/launcher.hpp"
#include "worker/record_retry.hpp"

namespace oos::worker {

struct WorkerOptions {
  std::string name;                       // lease owner, log field, STATUS=
  std::vector<std::string> queues;        // claimed from, highest priority first across all of them
  bool drain = false;                     // done once nothing is runnable or due within k_drain_horizon
  std::optional<std::int64_t> max_tasks;  // done after this many tasks
};

// How long --drain waits for a pending task that is not runnable yet (a retry after a short backoff).
inline constexpr util::Millis k_drain_horizon{10'000};
// After SIGTERM to a handler's group (timeout, or the end of the shutdown grace), SIGKILL follows this late.
inline constexpr util::Millis k_kill_grace{5'000};

// Where the handler's environment comes from (the worker's own environment and the secret store).
struct HandlerInputs {
  std::vector<std::string> env_names;  // names in the worker's environment, for LC_*
  EnvLookup env;
  SecretLookup secrets;
};

// A handler that runs inside the worker: the built-in `search` type, the benchmark's no-op.
struct InProcessResult {
  bool succeeded = false;
  std::string result;      // when succeeded
  queue::Failure failure;  // when not
};
using InProcessHandler = std::function<InProcessResult(const queue::Task&)>;

enum class Step {
  claimed,    // a handler was started
  running,    // a handler is running
  finished,   // a task's outcome was written (and the next task may have been claimed with it)
  recording,  // a finished run's outcome could not be written (disk full): kept, tried again (record_retry.hpp)
  idle,       // nothing runnable: wait worker.poll_interval
  done,       // stopped, drained, or --max-tasks reached: exit
};

struct WorkerCounters {
  std::int64_t started = 0;
  std::int64_t succeeded = 0;
  std::int64_t failed = 0;           // retried or dead
  std::int64_t released = 0;         // handed back on shutdown
  std::int64_t lost = 0;             // lease lost while running (another worker reclaimed it)
  std::int64_t record_failures = 0;  // writes of an outcome that failed for the storage (disk full, I/O)
};

class Worker {
 public:
  // Deadlines and waits follow `clock` (its monotonic time); handler processes are started by `launcher`.
  Worker(store::Backend& backend, const config::Config& config, const util::Clock& clock, log::Logger& logger,
         WorkerOptions options, HandlerInputs inputs,
         std::unique_ptr<ProcessLauncher> launcher = std::make_unique<ChildLauncher>());
  ~Worker();  // a handler still running is killed with its group; its lease expires and it is reclaimed
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs `type` in-process instead of through [handlers.TYPE].
  void add_builtin(std::string type, InProcessHandler handler);

  // The handlers the next tasks run with: the config's [handlers] until the first replace_handlers().
  const std::map<std::string, config::HandlerConfig>& handlers() const { return *m_handlers; }
  // A reload (worker/reload.hpp): the next task claimed runs with `handlers`; a task running now keeps the
  // handler it started with until it ends.
  void replace_handlers(std::map<std::string, config::HandlerConfig> handlers);

  // One bounded unit of work: at most one database transaction and about 100 ms of waiting on a handler.
  // Database errors propagate as SQLite::Exception; after "busy" the step can simply be retried (the
  // outcome of a finished run is kept until it is written). An outcome that cannot be written for the
  // storage (db::is_storage_failure: disk full, I/O error) is logged at critical and kept: the steps return
  // `recording`, renew the lease and write it again as plan_record_retry() says; when that gives up, the
  // step throws the last SQLite::Exception (74) and the task is reclaimed after its lease.
  Step step();

  // A flag set by a signal handler: once set, no further task is claimed, even inside a step (the loop
  // calls request_stop() between steps).
  void watch_stop_flag(const volatile std::sig_atomic_t& flag) { m_stop_flag = &flag; }

  // Stop claiming; a running handler gets worker.shutdown_grace to finish, then it is killed and its task
  // released (pending again, the attempt not counted).
  void request_stop();
  bool stopping() const { return m_stop_deadline.has_value(); }

  // What the worker is doing, one line for STATUS= ("running task 42 (thumbnail) for 3s").
  std::string status() const;
  const WorkerCounters& counters() const { return m_counters; }
  const WorkerOptions& options() const { return m_options; }
  // The database and the clock it works with (the loop writes its heartbeat through them).
  store::Backend& backend() { return m_backend; }
  const util::Clock& clock() const { return m_clock; }
  // Runnable pending tasks of its queues.
  std::int64_t queue_depth() { return m_store.runnable_count(m_options.queues); }

 private:
  struct Run;
  // A key of a ring given to a run, as the store knows it.
  struct GivenKey {
    std::string ring;
    std::string fingerprint;
  };

  Step claim_next();
  void start(queue::ClaimedTask claimed);
  // Picks one key of each of the handler's key rings and adds it to `env` (NAME_KEY); false when the run must not
  // start (its ending is set: a ring not set fails the attempt, a ring whose keys all cool down releases the task
  // until the first is back, a refused pick releases it at once).
  bool hand_out_keys(Run& run, std::vector<std::string>& env);
  // Puts the run's keys in cooldown until run.keys_cool_until (the handler reported them exhausted).
  void cool_down_keys(Run& run);
  Step step_running();
  void enforce_deadlines(Run& run, double now);
  void run_builtin(Run& run);
  void end_of_child(Run& run);
  // Renews the lease of `run` at monotonic time `now` (renew_at, lease_until); false when the task was reclaimed.
  // Throws SQLite::Exception.
  bool renew_lease(Run& run, double now);
  // Writes the outcome of the run; unless the worker must stop claiming, claims the next task in the same
  // transaction and starts it.
  Step finish();
  // The store's side of finish(): complete, fail (with the next claim when allowed) or release.
  void write_outcome(Run& run, std::optional<queue::ClaimedTask>& next, const std::string& took);
  // After an outcome write failed for the storage: plans the next try (true) or logs giving up (false).
  bool keep_for_retry(Run& run, const SQLite::Exception& e);
  // While an outcome waits to be written again: renews the lease when due, waits, then writes.
  Step retry_record();
  void log_recorded(const queue::Task& task, const queue::RunRecord& record, const queue::FailOutcome& recorded,
                    const std::string& took);
  bool may_claim() const;       // no stop requested, --max-tasks not reached
  bool stop_requested() const;  // request_stop() called, or the watched stop flag set
  void reclaim_if_due();
  bool drained();
  void log_task(log::LogLevel level, const queue::Task& task, const std::string& message);

  store::Backend& m_backend;
  const config::Config& m_config;
  const util::Clock& m_clock;
  log::Logger& m_logger;
  queue::TaskStore& m_store;
  WorkerOptions m_options;
  HandlerInputs m_inputs;
  std::unique_ptr<ProcessLauncher> m_launcher;
  std::map<std::string, InProcessHandler> m_builtins;
  // Shared with the run that started under them, so that a reload does not change a running task's handler.
  std::shared_ptr<const std::map<std::string, config::HandlerConfig>> m_handlers;
  std::unique_ptr<Run> m_run;
  std::optional<double> m_stop_deadline;  // m_clock.monotonic() seconds
  const volatile std::sig_atomic_t* m_stop_flag = nullptr;
  std::optional<double> m_next_reclaim;  // m_clock.monotonic() seconds; none: at once
  double m_reclaim_every = 10;           // a third of the shortest lease of its queues
  WorkerCounters m_counters;
  std::optional<std::string> m_fingerprint_key;  // the installation's, read once (keys::fingerprint)
};

}  // namespace oos::worker
