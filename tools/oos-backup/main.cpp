// oos-backup: verified online backups (docs/reference.md section 8.4).
#include "app/context.hpp"
#include "cli.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  oos::tools::backup::Command command;
  if (auto done = oos::tools::backup::parse(argc, argv, command)) return *done;
  if (command.verb == oos::tools::backup::Verb::list)
    return oos::app::run_main("oos-backup", [&](oos::app::RunState&) {
      auto context = oos::app::make_context("oos-backup", command.common);
      return oos::tools::backup::list(command, context);
    });
  return oos::app::run_with_database(
      "oos-backup", command.common, oos::db::Access::read_write,
      [&](auto& context, auto& db) { return oos::tools::backup::run(command, context, db); });
}
