// oos-retry: the dead letter queue (DESIGN.md section 7).
#include "app/context.hpp"
#include "cli.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  oos::tools::retry::Command command;
  if (auto done = oos::tools::retry::parse(argc, argv, command)) return *done;
  return oos::app::run_main("oos-retry", [&](oos::app::RunState& state) {
    auto context = oos::app::make_context("oos-retry", command.common);
    state.db_path = context.db_path();
    auto db = oos::app::open_database(context);
    return oos::tools::retry::run(command, context, *db);
  });
}
