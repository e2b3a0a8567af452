// oos-queue: enqueue and inspect tasks, pause queues, reset breakers, claim and report tasks as an external worker
// (docs/reference.md section 8.1).
#include "app/context.hpp"
#include "backends/open.hpp"
#include "cli.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  oos::tools::queue::Command command;
  if (auto done = oos::tools::queue::parse(argc, argv, command)) return *done;
  return oos::store::run_with_backend(
      "oos-queue", command.common, oos::tools::queue::access(command),
      [&](auto& context, auto& backend) { return oos::tools::queue::run(command, context, backend); });
}
