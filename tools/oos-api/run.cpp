#include "run.hpp"

#include <fmt/format.h>

#include <csignal>
#include <iostream>

#include "api/http_server.hpp"
#include "api/listen.hpp"
#include "api/router.hpp"
#include "secrets.hpp"

namespace oos::tools::api {
namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void block_stop_signals() {
  auto set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int run(const Command& command, app::Context& context, db::Database& db) {
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
      {db, context.config, context.clock, *context.logger, context.state_dir, context.backup_dir(), access});
  const auto& limits = context.config.api;
  oos::api::ServerSettings settings{limits.max_body, static_cast<unsigned>(limits.max_connections),
                                    std::chrono::duration_cast<std::chrono::seconds>(limits.connection_timeout)};
  oos::api::HttpServer server(std::move(listener), settings,
                              [&](const oos::api::Request& request) { return router.handle(request); });
  std::cout << "listening on " << address << std::endl;
  context.logger->info(fmt::format("listening on {}", address), {{"address", address}});
  auto set = stop_signals();
  int signal = 0;
  sigwait(&set, &signal);
  context.logger->info(fmt::format("stopping on {}", signal == SIGTERM ? "SIGTERM" : "SIGINT"));
  return 0;
}

}  // namespace oos::tools::api
