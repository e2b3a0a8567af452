#include "run.hpp"

#include <unistd.h>

#include <cstdlib>
#include <optional>

#include "app/read_config.hpp"
#include "search/search_store.hpp"
#include "secrets.hpp"
#include "worker/runner.hpp"
#include "worker/search_task.hpp"
#include "worker/worker.hpp"

extern char** environ;

namespace oos::tools::worker {
namespace {

std::string default_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || !*host) std::snprintf(host, sizeof host, "localhost");
  return std::string(host) + ":" + std::to_string(::getpid());
}

std::vector<std::string> environment_names() {
  std::vector<std::string> names;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    names.push_back(entry.substr(0, entry.find('=')));
  }
  return names;
}

}  // namespace

int run(const Command& command, app::Context& context, store::Backend& backend, const volatile std::sig_atomic_t& stop,
        volatile std::sig_atomic_t& release_memory, volatile std::sig_atomic_t& reload) {
  oos::worker::WorkerOptions options;
  options.name = command.name.value_or(default_name());
  options.queues = command.queues.empty() ? context.config.worker.queues : command.queues;
  options.drain = command.drain;
  options.max_tasks = command.max_tasks;

  auto secrets = secrets::SecretStore::from_environment();
  oos::worker::HandlerInputs inputs{environment_names(),
                                    [](const std::string& name) -> std::optional<std::string> {
                                      const char* value = std::getenv(name.c_str());
                                      return value ? std::optional<std::string>(value) : std::nullopt;
                                    },
                                    [&secrets](const std::string& name) { return secrets.get(name); }};

  oos::worker::Worker worker(backend, context.config, context.clock, *context.logger, std::move(options),
                             std::move(inputs));
  // The built-in `search` type, unless the config names a handler of its own for it.
  std::optional<oos::search::SearchClient> search;
  if (!context.config.handlers.contains("search")) {
    search.emplace(backend.search(), backend.key_rings(), context.config, secrets, context.clock, *context.logger);
    worker.add_builtin(
        "search", [&](const queue::Task& task) { return oos::worker::run_search_task(*search, task, context.config); });
  }
  oos::worker::SystemdNotifier notifier;
  if (!notifier.problem().empty()) context.logger->warn(notifier.problem());
  oos::worker::RunnerOptions runner{
      oos::worker::watchdog_interval(std::getenv("WATCHDOG_USEC"), std::getenv("WATCHDOG_PID"), ::getpid()),
      context.config.worker.poll_interval, context.config.worker.metrics_interval, context.db_path()};
  runner.release_memory = &release_memory;
  runner.reload = &reload;
  runner.read_config = [&command] { return app::read_config(command.common); };
  runner.config = &context.config;
  oos::worker::MetricsFiles metrics_files(backend, context.config, context.clock, *context.logger);
  metrics_files.write(worker);  // at once: a restarted worker's file no longer says it stopped
  runner.metrics_files = &metrics_files;
  oos::worker::run_worker(worker, notifier, *context.logger, runner, stop);
  return 0;
}

}  // namespace oos::tools::worker
