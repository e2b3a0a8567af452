// oos-search: one web search, or `quota`. See commands.hpp.
#include "app/context.hpp"
#include "cli.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  oos::tools::search::Command command;
  if (auto done = oos::tools::search::parse(argc, argv, command)) return *done;
  return oos::app::run_with_database(
      "oos-search", command.common, oos::tools::search::access(command),
      [&](auto& context, auto& db) { return oos::tools::search::run(command, context, db); });
}
