// oos-search: one web search, or `quota`. See commands.hpp.
#include "app/context.hpp"
#include "backends/open.hpp"
#include "cli.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  oos::tools::search::Command command;
  if (auto done = oos::tools::search::parse(argc, argv, command)) return *done;
  return oos::store::run_with_backend(
      "oos-search", command.common, oos::tools::search::access(command),
      [&](auto& context, auto& backend) { return oos::tools::search::run(command, context, backend); });
}
