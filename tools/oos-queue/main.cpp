// oos-queue: enqueue and inspect tasks, pause queues, reset breakers (DESIGN.md section 7).
#include "app/context.hpp"
#include "cli.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  oos::tools::queue::Command command;
  if (auto done = oos::tools::queue::parse(argc, argv, command)) return *done;
  return oos::app::run_main("oos-queue", [&](oos::app::RunState& state) {
    auto context = oos::app::make_context("oos-queue", command.common);
    state.db_path = context.db_path();
    auto db = oos::app::open_database(context);
    return oos::tools::queue::run(command, context, *db);
  });
}
