#include "worker/runner.hpp"

#include <malloc.h>
#include <unistd.h>

#include <SQLiteCpp/Exception.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "db/database.hpp"
#include "error.hpp"
#include "queue/worker_registry.hpp"
#include "store/backend.hpp"
#include "util/process_usage.hpp"
#include "worker/reload.hpp"

namespace oos::worker {
namespace {

void log_metrics(Worker& worker, log::Logger& logger) {
  auto usage = util::process_usage();
  auto depth = worker.queue_depth();
  const auto& c = worker.counters();
  logger.info(fmt::format("metrics: rss {:.1f} MiB, cpu {:.2f}s (handlers {:.2f}s), {} tasks run ({} succeeded, "
                          "{} failed, {} released), queue depth {}",
                          static_cast<double>(usage.rss_bytes) / (1 << 20), usage.cpu_seconds,
                          usage.children_cpu_seconds, c.started, c.succeeded, c.failed, c.released, depth),
              {{"worker", worker.options().name},
               {"rss_bytes", std::to_string(usage.rss_bytes)},
               {"cpu_seconds", fmt::format("{:.3f}", usage.cpu_seconds)},
               {"children_cpu_seconds", fmt::format("{:.3f}", usage.children_cpu_seconds)},
               {"tasks_run", std::to_string(c.started)},
               {"tasks_succeeded", std::to_string(c.succeeded)},
               {"tasks_failed", std::to_string(c.failed)},
               {"queue_depth", std::to_string(depth)}});
}

// The worker's row in `workers`: written when due (at once, then every interval), deleted on a clean exit.
class Heartbeat {
 public:
  Heartbeat(Worker& worker, util::Millis interval)
      : m_worker(worker),
        m_registry(worker.backend().workers()),
        m_started_at(worker.clock().now()),
        m_host(util::host_name()),
        m_every(static_cast<double>(interval.count()) / 1000.0) {}

  bool due(double now) const { return now >= m_next; }

  // Writes the row if it is due at monotonic time `now`. Throws SQLite::Exception (busy: try again later),
  // except for a failure of the storage (disk full): a missed heartbeat is logged and tried again at the next
  // interval, so that it does not end a worker that still has an outcome to record (worker.hpp).
  void beat_if_due(double now, log::Logger& logger) {
    if (!due(now)) return;
    try {
      m_registry.heartbeat(m_worker.options().name, ::getpid(), m_host, m_started_at, m_worker.clock().now(),
                           m_worker.status(), m_worker.counters().started);
    } catch (const SQLite::Exception& e) {
      if (!db::is_storage_failure(e)) throw;
      logger.warn(
          fmt::format("cannot write the heartbeat of worker '{}': {}, ignoring", m_worker.options().name, e.what()),
          {{"worker", m_worker.options().name}});
    }
    m_next = now + m_every;
  }

  // Deletes the row; a failure is only logged, as the worker is on its way out anyway.
  void remove(log::Logger& logger) {
    try {
      m_registry.remove(m_worker.options().name);
    } catch (const std::exception& e) {  // SQLite's busy or I/O error, PostgreSQL away
      logger.warn(
          fmt::format("cannot remove the heartbeat of worker '{}': {}, ignoring", m_worker.options().name, e.what()),
          {{"worker", m_worker.options().name}});
    }
  }

 private:
  Worker& m_worker;
  queue::WorkerRegistry& m_registry;
  util::UnixMillis m_started_at;
  std::string m_host;
  double m_every;
  double m_next = -1e300;
};

// Hands memory back to the system: the connection's page cache, then the heap's free pages (glibc keeps
// them otherwise). Logs one line with the RSS before and after.
void release_memory(Worker& worker, log::Logger& logger) {
  auto before = util::read_statm_rss().value_or(0);
  worker.backend().release_memory();
  ::malloc_trim(0);
  auto after = util::read_statm_rss().value_or(0);
  logger.info(fmt::format("released memory on request: rss {:.1f} MiB -> {:.1f} MiB (SQLite caches, malloc_trim)",
                          static_cast<double>(before) / (1 << 20), static_cast<double>(after) / (1 << 20)),
              {{"worker", worker.options().name},
               {"rss_before_bytes", std::to_string(before)},
               {"rss_after_bytes", std::to_string(after)}});
}

// Called in a handler of `e`: busy past db.busy_timeout is worth another try (logged; the caller retries
// without pinging the watchdog); anything else is rethrown and ends the worker (run_main reports it).
void warn_busy_or_rethrow(const SQLite::Exception& e, Worker& worker, log::Logger& logger,
                          const RunnerOptions& options) {
  auto error = db::translate(e, options.db_path);
  if (error.code() != ExitCode::temp_fail) throw;
  logger.warn(std::string(error.what()) + "; the worker tries again", {{"worker", worker.options().name}});
}

// The same for a transient failure of PostgreSQL (the server is restarting or unreachable, a serialization
// failure): logged, and the step is tried again after the poll interval, on a connection opened again
// (pg::Connection).
void warn_transient(const TransientDatabaseError& e, Worker& worker, log::Logger& logger) {
  logger.warn(std::string(e.what()) + "; the worker tries again", {{"worker", worker.options().name}});
}

bool flag_set(const volatile std::sig_atomic_t* flag) {
  return flag && *flag;
}

// Rereads the configuration and gives the worker the new handlers for its next tasks; `running` is what it
// runs with (the start's configuration with the handlers of the last reload). MONOTONIC_USEC is what
// systemd 253 and later want with RELOADING=1 (Type=notify-reload); 252 ignores it.
void reload(Worker& worker, Notifier& notifier, log::Logger& logger, const RunnerOptions& options,
            config::Config& running) {
  const auto now_usec =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch());
  notifier.notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(now_usec.count()));
  const auto& name = worker.options().name;
  try {
    auto next = options.read_config();
    auto plan = plan_reload(running, next);
    const auto source = next.source.empty() ? std::string("the built-in defaults") : "'" + next.source.string() + "'";
    if (plan.changes_handlers()) worker.replace_handlers(plan.handlers);
    running.handlers = std::move(plan.handlers);
    logger.info(
        fmt::format("reloaded the configuration from {}: {}{}", source, describe_handler_changes(plan),
                    plan.changes_handlers() ? " (from the next task on; a running task keeps its handler)" : ""),
        {{"worker", name}});
    if (!plan.needs_restart.empty())
      logger.warn(fmt::format("{} changed in {}: they take effect when the worker restarts, ignoring",
                              describe_restart_changes(plan), source),
                  {{"worker", name}});
  } catch (const Error& e) {
    logger.error(fmt::format("cannot reload the configuration: {}; the worker keeps the one it runs with", e.what()),
                 {{"worker", name}});
  }
  notifier.notify("READY=1\nSTATUS=" + worker.status());
}

}  // namespace

void run_worker(Worker& worker, Notifier& notifier, log::Logger& logger, const RunnerOptions& options,
                const volatile std::sig_atomic_t& stop) {
  worker.watch_stop_flag(stop);
  WatchdogPinger pinger(notifier, options.watchdog);
  Heartbeat heartbeat(worker, options.heartbeat_interval);
  std::string status = worker.status();
  notifier.notify("READY=1\nSTATUS=" + status);
  std::string queues;
  for (const auto& q : worker.options().queues) queues += (queues.empty() ? "" : ", ") + q;
  logger.info(fmt::format("worker '{}' started on {}{}", worker.options().name, queues,
                          options.watchdog ? ", watchdog ping every " + util::format_duration(*options.watchdog) : ""),
              {{"worker", worker.options().name}});

  const bool reloads = options.reload && options.read_config && options.config;
  config::Config running;
  if (reloads) {
    running = *options.config;
    running.handlers = worker.handlers();
  }
  const util::Clock& clock = worker.clock();
  const double metrics_every = static_cast<double>(options.metrics_interval.count()) / 1000.0;
  double next_metrics = clock.monotonic() + metrics_every;
  while (true) {
    if (stop && !worker.stopping()) {
      worker.request_stop();
      notifier.notify("STOPPING=1");
    }
    if (flag_set(options.release_memory)) {
      *options.release_memory = 0;  // before the release: a request arriving during it is served next turn
      release_memory(worker, logger);
    }
    if (reloads && flag_set(options.reload)) {
      *options.reload = 0;  // before the reload: a request arriving during it is served next turn
      reload(worker, notifier, logger, options, running);
    }
    Step step = Step::idle;
    try {
      heartbeat.beat_if_due(clock.monotonic(), logger);
      step = worker.step();
      if (double now = clock.monotonic(); now >= next_metrics) {
        log_metrics(worker, logger);
        if (options.metrics_files) options.metrics_files->write(worker);
        // From now, not from the missed due time: after a long step, one line, not one per turn until caught up.
        next_metrics = now + metrics_every;
      }
    } catch (const SQLite::Exception& e) {
      warn_busy_or_rethrow(e, worker, logger, options);
      store::sleep_unless_stopped(clock, options.poll_interval, stop);
      continue;  // no progress, no watchdog ping
    } catch (const TransientDatabaseError& e) {
      warn_transient(e, worker, logger);
      store::sleep_unless_stopped(clock, options.poll_interval, stop);
      continue;
    }
    double now = clock.monotonic();
    pinger.progressed(now);
    if (auto s = worker.status(); s != status) {
      status = s;
      notifier.notify("STATUS=" + status);
    }
    if (step == Step::done) break;
    if (step != Step::idle) continue;
    // Idle: wait for the poll interval in short slices, so a stop signal or a release request is seen at once;
    // the heartbeat goes on meanwhile. The backend ends the wait early when work is announced (PostgreSQL's
    // LISTEN/NOTIFY): the next step claims it.
    double until = now + static_cast<double>(options.poll_interval.count()) / 1000.0;
    while (!stop && !flag_set(options.release_memory) && !(reloads && flag_set(options.reload)) &&
           (now = clock.monotonic()) < until) {
      const auto slice = util::Millis(static_cast<std::int64_t>(std::ceil(std::min(100.0, (until - now) * 1000.0))));
      if (worker.backend().wait_for_work(clock, slice, stop)) break;
      now = clock.monotonic();
      if (heartbeat.due(now)) {
        try {
          heartbeat.beat_if_due(now, logger);
        } catch (const SQLite::Exception& e) {
          warn_busy_or_rethrow(e, worker, logger, options);
          continue;  // no progress, no watchdog ping
        } catch (const TransientDatabaseError& e) {
          warn_transient(e, worker, logger);
          continue;
        }
      }
      pinger.progressed(now);
    }
  }
  if (options.metrics_files) options.metrics_files->write(worker, metrics::WorkerPhase::stopped);
  heartbeat.remove(logger);
  const auto& c = worker.counters();
  notifier.notify(worker.stopping() ? "STATUS=stopped" : "STOPPING=1\nSTATUS=stopped");
  logger.info(fmt::format("worker '{}' stopped: {} tasks run ({} succeeded, {} failed, {} released)",
                          worker.options().name, c.started, c.succeeded, c.failed, c.released),
              {{"worker", worker.options().name}});
}

}  // namespace oos::worker
