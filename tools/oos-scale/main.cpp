// oos-scale: one scaling decision per run (a timer runs it every minute). See commands.hpp.
#include "backends/open.hpp"
#include "cli.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  oos::tools::scale::Command command;
  if (auto done = oos::tools::scale::parse(argc, argv, command)) return *done;
  return oos::store::run_with_backend(
      "oos-scale", command.common, oos::db::Access::read_write,
      [&](auto& context, auto& backend) { return oos::tools::scale::run(command, context, backend); });
}
