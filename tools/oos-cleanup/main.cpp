// oos-cleanup: disk check; above the threshold (or --force) apply the cleanup rules; always apply task
// retention; every action is a JSON line in <log_dir>/cleanup-YYYY-MM-DD.jsonl (docs/reference.md section 8.6).
#include "app/context.hpp"
#include "cli.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  oos::tools::cleanup::Command command;
  if (auto done = oos::tools::cleanup::parse(argc, argv, command)) return *done;
  return oos::app::run_with_database(
      "oos-cleanup", command.common, oos::db::Access::read_write,
      [&](auto& context, auto& db) { return oos::tools::cleanup::run(command, context, db); });
}
