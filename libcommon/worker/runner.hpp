// The worker's main loop around Worker::step(): READY=1 once it can claim, STATUS= when it changes, the
// watchdog ping after every completed step, STOPPING=1 when a stop signal arrives, the metrics line, and a
// busy database treated as "try the step again" (without pinging: a database that stays locked for longer
// than the watchdog gets the worker restarted).
#pragma once

#include <csignal>
#include <filesystem>
#include <optional>

#include "log.hpp"
#include "util/duration.hpp"
#include "worker/metrics_files.hpp"
#include "worker/notify.hpp"
#include "worker/worker.hpp"

namespace oos::worker {

struct RunnerOptions {
  std::optional<util::Millis> watchdog;  // ping interval (watchdog_interval()); nullopt: no watchdog
  util::Millis poll_interval{1000};      // wait after an idle step
  util::Millis metrics_interval{60'000};
  std::filesystem::path db_path;  // named in the busy warning
  MetricsFiles* metrics_files = nullptr;  // written with each metrics line and once on exit; none when null
};

// Runs `worker` until it is done; `stop` is set asynchronously (by a SIGTERM handler).
void run_worker(Worker& worker, Notifier& notifier, log::Logger& logger, const RunnerOptions& options,
                const volatile std::sig_atomic_t& stop);

}  // namespace oos::worker
