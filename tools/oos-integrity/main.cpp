// oos-integrity: checks the state database, vacuums it when fragmented, and recovers it from the newest
// verified backup when it is corrupt (docs/reference.md section 8.5).
#include "app/context.hpp"
#include "cli.hpp"
#include "commands.hpp"

// What oos-integrity says on PostgreSQL, whose integrity is the server's (docs/reference.md section 19).
constexpr std::string_view k_on_postgresql =
    "it checks and recovers the SQLite state database; PostgreSQL's integrity is the server's: check it with the "
    "amcheck extension (pg_amcheck) and recover from a pg_dump";

int main(int argc, char** argv) {
  oos::tools::integrity::Command command;
  if (auto done = oos::tools::integrity::parse(argc, argv, command)) return *done;
  return oos::app::run_main("oos-integrity", [&](oos::app::RunState& state) {
    auto context = oos::app::make_context("oos-integrity", command.common);
    oos::app::refuse_postgresql(context, k_on_postgresql);
    state.db_path = context.db_path();
    return oos::tools::integrity::run(command, context);
  });
}
