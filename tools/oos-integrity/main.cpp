// oos-integrity: checks the state database, vacuums it when fragmented, and recovers it from the newest
// verified backup when it is corrupt (docs/reference.md section 8.5).
#include "app/context.hpp"
#include "cli.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  oos::tools::integrity::Command command;
  if (auto done = oos::tools::integrity::parse(argc, argv, command)) return *done;
  return oos::app::run_main("oos-integrity", [&](oos::app::RunState& state) {
    auto context = oos::app::make_context("oos-integrity", command.common);
    state.db_path = context.db_path();
    return oos::tools::integrity::run(command, context);
  });
}
