// oos-retry: the dead letter queue (docs/reference.md section 8.3).
#include "app/context.hpp"
#include "backends/open.hpp"
#include "cli.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  oos::tools::retry::Command command;
  if (auto done = oos::tools::retry::parse(argc, argv, command)) return *done;
  return oos::store::run_with_backend(
      "oos-retry", command.common, oos::tools::retry::access(command),
      [&](auto& context, auto& backend) { return oos::tools::retry::run(command, context, backend); });
}
