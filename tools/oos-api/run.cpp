#include "run.hpp"

#include <fmt/format.h>

#include <csignal>
#include <ctime>
#include <iostream>

#include "api/http_server.hpp"
#include "api/listen.hpp"
#include "api/router.hpp"
#include "secrets.hpp"
#include "worker/notify.hpp"

namespace oos::tools::api {
namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

// Waits for SIGTERM or SIGINT, at most `timeout` (forever without one); the signal, or 0 when the time ran out.
int wait_for_stop(const sigset_t& set, std::optional<util::Millis> timeout) {
  if (!timeout) {
    int signal = 0;
    sigwait(&set, &signal);
    return signal;
  }
  timespec wait{static_cast<time_t>(timeout->count() / 1000), static_cast<long>(timeout->count() % 1000) * 1000000};
  int signal = sigtimedwait(&set, nullptr, &wait);
  return signal > 0 ? signal : 0;
}

}  // namespace

void block_stop_signals() {
  auto set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int run(const Command& command, app::Context& context, store::Backend& backend) {
  std::optional<util::Fd> passed;
  if (!command.listen) passed = oos::api::systemd_socket();
  auto listener =
      passed ? std::move(*passed)
             : oos::api::listen_on(command.listen ? std::string_view(*command.listen) : oos::api::k_default_listen);
  auto address = oos::api::local_address(listener.get());
  auto secrets = secrets::SecretStore::from_environment();
  oos::api::AccessSettings access{secrets.get("OOS_API_TOKEN"), secrets.get("OOS_API_READONLY_TOKEN"),
                                  oos::api::allowed_hosts(address, context.config.api.allowed_hosts)};
  oos::api::Router router(
      {backend, context.config, context.clock, *context.logger, context.state_dir, context.backup_dir(), access});
  const auto& limits = context.config.api;
  oos::api::ServerSettings settings{limits.max_body, static_cast<unsigned>(limits.max_connections),
                                    std::chrono::duration_cast<std::chrono::seconds>(limits.connection_timeout),
                                    static_cast<unsigned>(limits.max_connections_per_ip), std::nullopt};
  // Only a socket systemd passed: systemd keeps it while we are gone and starts us again on the next
  // connection. A socket we bound ourselves would be gone with us.
  if (passed) settings.idle_exit = limits.idle_exit;
  oos::api::HttpServer server(std::move(listener), settings,
                              [&](const oos::api::Request& request) { return router.handle(request); });
  std::cout << "listening on " << address << std::endl;
  context.logger->info(fmt::format("listening on {}", address), {{"address", address}});
  worker::SystemdNotifier notifier;
  if (!notifier.problem().empty()) context.logger->warn(notifier.problem());
  notifier.notify("READY=1");
  auto set = stop_signals();
  while (true) {
    if (int signal = wait_for_stop(set, server.idle_check_in())) {
      context.logger->info(fmt::format("stopping on {}", signal == SIGTERM ? "SIGTERM" : "SIGINT"));
      break;
    }
    if (server.quiesce_if_idle()) {
      context.logger->info(
          fmt::format("exiting after {} without a connection (api.idle_exit); systemd keeps the socket",
                      util::format_duration(limits.idle_exit)),
          {{"address", address}});
      break;
    }
  }
  notifier.notify("STOPPING=1");
  return 0;
}

}  // namespace oos::tools::api
