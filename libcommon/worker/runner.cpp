#include "worker/runner.hpp"

#include <poll.h>

#include <SQLiteCpp/Exception.h>
#include <fmt/format.h>

#include <algorithm>

#include "db/database.hpp"
#include "error.hpp"
#include "util/process_usage.hpp"

namespace oos::worker {
namespace {

void sleep_ms(double ms) {
  ::poll(nullptr, 0, static_cast<int>(std::max(0.0, ms)));
}

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

}  // namespace

void run_worker(Worker& worker, Notifier& notifier, log::Logger& logger, const RunnerOptions& options,
                const volatile std::sig_atomic_t& stop) {
  worker.watch_stop_flag(stop);
  WatchdogPinger pinger(notifier, options.watchdog);
  std::string status = worker.status();
  notifier.notify("READY=1\nSTATUS=" + status);
  std::string queues;
  for (const auto& q : worker.options().queues) queues += (queues.empty() ? "" : ", ") + q;
  logger.info(fmt::format("worker '{}' started on {}{}", worker.options().name, queues,
                          options.watchdog ? ", watchdog ping every " + util::format_duration(*options.watchdog) : ""),
              {{"worker", worker.options().name}});

  const double metrics_every = static_cast<double>(options.metrics_interval.count()) / 1000.0;
  double next_metrics = util::monotonic_seconds() + metrics_every;
  while (true) {
    if (stop && !worker.stopping()) {
      worker.request_stop();
      notifier.notify("STOPPING=1");
    }
    Step step = Step::idle;
    try {
      step = worker.step();
      if (util::monotonic_seconds() >= next_metrics) {
        log_metrics(worker, logger);
        if (options.metrics_files) options.metrics_files->write(worker);
        next_metrics += metrics_every;
      }
    } catch (const SQLite::Exception& e) {
      // Busy past db.busy_timeout is worth another try; anything else ends the worker (run_main reports it).
      auto error = db::translate(e, options.db_path);
      if (error.code() != ExitCode::temp_fail) throw;
      logger.warn(std::string(error.what()) + "; the worker tries again", {{"worker", worker.options().name}});
      sleep_ms(static_cast<double>(options.poll_interval.count()));
      continue;  // no progress, no watchdog ping
    }
    double now = util::monotonic_seconds();
    pinger.progressed(now);
    if (auto s = worker.status(); s != status) {
      status = s;
      notifier.notify("STATUS=" + status);
    }
    if (step == Step::done) break;
    if (step != Step::idle) continue;
    // Idle: wait for the poll interval in short slices, so a stop signal is seen at once.
    double until = now + static_cast<double>(options.poll_interval.count()) / 1000.0;
    while (!stop && (now = util::monotonic_seconds()) < until) {
      sleep_ms(std::min(100.0, (until - now) * 1000.0));
      pinger.progressed(util::monotonic_seconds());
    }
  }
  if (options.metrics_files) options.metrics_files->write(worker, metrics::WorkerPhase::stopped);
  const auto& c = worker.counters();
  notifier.notify(worker.stopping() ? "STATUS=stopped" : "STOPPING=1\nSTATUS=stopped");
  logger.info(fmt::format("worker '{}' stopped: {} tasks run ({} succeeded, {} failed, {} released)",
                          worker.options().name, c.started, c.succeeded, c.failed, c.released),
              {{"worker", worker.options().name}});
}

}  // namespace oos::worker
