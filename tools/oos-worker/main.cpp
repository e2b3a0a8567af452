// oos-worker: runs tasks until SIGTERM (docs/reference.md sections 5-7, 8.2 and 15).
#include <csignal>

#include "app/context.hpp"
#include "backends/open.hpp"
#include "cli.hpp"
#include "run.hpp"

namespace {

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_release_memory = 0;
volatile std::sig_atomic_t g_reload = 0;

extern "C" void on_stop_signal(int) {
  g_stop = 1;
}

extern "C" void on_release_signal(int) {
  g_release_memory = 1;
}

extern "C" void on_reload_signal(int) {
  g_reload = 1;
}

// SIGTERM (systemd's stop) and SIGINT (Ctrl-C) ask the loop to stop; SIGUSR1 (from oos-scale under memory
// pressure) asks it to release memory; SIGHUP (systemd's reload) to reread the configuration. They do not
// interrupt it.
void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
  action.sa_handler = on_release_signal;
  ::sigaction(SIGUSR1, &action, nullptr);
  action.sa_handler = on_reload_signal;
  ::sigaction(SIGHUP, &action, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  oos::tools::worker::Command command;
  if (auto done = oos::tools::worker::parse(argc, argv, command)) return *done;
  install_signal_handlers();
  return oos::store::run_with_backend(
      "oos-worker", command.common, oos::db::Access::read_write, [&](auto& context, auto& backend) {
        return oos::tools::worker::run(command, context, backend, g_stop, g_release_memory, g_reload);
      });
}
