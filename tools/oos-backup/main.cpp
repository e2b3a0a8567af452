// oos-backup: verified online backups (docs/reference.md section 8.4).
#include "app/context.hpp"
#include "cli.hpp"
#include "commands.hpp"

// What oos-backup says on PostgreSQL, where it has nothing to copy (docs/reference.md section 19).
constexpr std::string_view k_on_postgresql =
    "it copies the SQLite state database; back PostgreSQL up with 'pg_dump --format=custom' and verify the dump "
    "with 'pg_restore --list'";

int main(int argc, char** argv) {
  oos::tools::backup::Command command;
  if (auto done = oos::tools::backup::parse(argc, argv, command)) return *done;
  return oos::app::run_main("oos-backup", [&](oos::app::RunState& state) {
    auto context = oos::app::make_context("oos-backup", command.common);
    oos::app::refuse_postgresql(context, k_on_postgresql);
    if (command.verb == oos::tools::backup::Verb::list) return oos::tools::backup::list(command, context);
    state.db_path = context.db_path();
    auto db = oos::app::open_database(context, oos::db::Access::read_write);
    return oos::tools::backup::run(command, context, *db);
  });
}
