// oos-api: the HTTP API over the queue, until SIGTERM (docs/reference.md, HTTP API).
#include "app/context.hpp"
#include "backends/open.hpp"
#include "cli.hpp"
#include "run.hpp"

int main(int argc, char** argv) {
  oos::tools::api::Command command;
  if (auto done = oos::tools::api::parse(argc, argv, command)) return *done;
  // Blocked before any thread starts, so that only run()'s sigwait() receives them.
  oos::tools::api::block_stop_signals();
  return oos::store::run_with_backend(
      "oos-api", command.common, oos::db::Access::read_write,
      [&](auto& context, auto& backend) { return oos::tools::api::run(command, context, backend); });
}
