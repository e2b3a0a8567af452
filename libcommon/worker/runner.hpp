// The worker's main loop around Worker::step(): READY=1 once it can claim, STATUS= when it changes, the
// watchdog ping after every completed step, STOPPING=1 when a stop signal arrives, the metrics line, the
// heartbeat row in `workers` (queue/worker_registry.hpp), memory release on request (SIGUSR1), a reload of
// the configuration on request (SIGHUP: RELOADING=1, the handlers of worker/reload.hpp, READY=1), and a
// busy database treated as "try the step again" (without pinging: a database that stays locked for longer
// than the watchdog gets the worker restarted).
#pragma once

#include <csignal>
#include <filesystem>
#include <functional>
#include <optional>

#include "config.hpp"
#include "log.hpp"
#include "util/duration.hpp"
#include "worker/metrics_files.hpp"
#include "worker/notify.hpp"
#include "worker/worker.hpp"

namespace oos::worker {

// How often the loop writes the worker's heartbeat row: when a loop turn or an idle wait finds it due, like the
// watchdog ping, so a wedged loop stops beating.
inline constexpr util::Millis k_heartbeat_interval{10'000};

struct RunnerOptions {
  std::optional<util::Millis> watchdog;  // ping interval (watchdog_interval()); nullopt: no watchdog
  util::Millis poll_interval{1000};      // wait after an idle step
  util::Millis metrics_interval{60'000};
  std::filesystem::path db_path;  // named in the busy warning
  util::Millis heartbeat_interval = k_heartbeat_interval;
  // Set asynchronously (by a SIGUSR1 handler) to ask for a memory release at the next loop turn: SQLite's
  // caches of the connection and malloc_trim(0), logged with the RSS before and after. The loop clears it.
  volatile std::sig_atomic_t* release_memory = nullptr;
  MetricsFiles* metrics_files = nullptr;  // written with each metrics line and once on exit; none when null
  // Set asynchronously (by a SIGHUP handler) to ask for a reload at the next loop turn, also while a task runs:
  // RELOADING=1, read_config(), the new handlers for the next tasks (plan_reload() against `config`), READY=1.
  // A file that read_config() refuses (oos::Error) is one error line naming it and its cause; the worker goes
  // on with what it ran with. The loop clears the flag. No reload unless all three are set.
  volatile std::sig_atomic_t* reload = nullptr;
  std::function<config::Config()> read_config{};  // app::read_config() with the options the worker started with
  const config::Config* config = nullptr;         // the configuration the worker started with
};

// Runs `worker` until it is done; `stop` is set asynchronously (by a SIGTERM handler). The heartbeat row is
// written at the first loop turn and every heartbeat_interval after, and deleted when the loop ends cleanly
// (a database error that ends the worker leaves it behind, stale).
void run_worker(Worker& worker, Notifier& notifier, log::Logger& logger, const RunnerOptions& options,
                const volatile std::sig_atomic_t& stop);

}  // namespace oos::worker
