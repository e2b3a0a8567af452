// oos-worker: runs tasks until SIGTERM (DESIGN.md sections 4-7 and 11).
#include <csignal>

#include "app/context.hpp"
#include "cli.hpp"
#include "run.hpp"

namespace {

volatile std::sig_atomic_t g_stop = 0;

extern "C" void on_stop_signal(int) {
  g_stop = 1;
}

// SIGTERM (systemd's stop) and SIGINT (Ctrl-C) ask the loop to stop; they do not interrupt it.
void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  oos::tools::worker::Command command;
  if (auto done = oos::tools::worker::parse(argc, argv, command)) return *done;
  install_stop_handlers();
  return oos::app::run_with_database("oos-worker", command.common, [&](auto& context, auto& db) {
    return oos::tools::worker::run(command, context, db, g_stop);
  });
}
