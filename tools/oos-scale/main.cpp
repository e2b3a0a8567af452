// oos-scale: one scaling decision per run (a timer runs it every minute). See commands.hpp.
#include "app/context.hpp"
#include "cli.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  oos::tools::scale::Command command;
  if (auto done = oos::tools::scale::parse(argc, argv, command)) return *done;
  return oos::app::run_with_database(
      "oos-scale", command.common, oos::db::Access::read_write,
      [&](auto& context, auto& db) { return oos::tools::scale::run(command, context, db); });
}
