// oos-cleanup: disk check; above the threshold (or --force) apply the cleanup rules; always apply task
// retention; every action is a JSON line in <log_dir>/cleanup-YYYY-MM-DD.jsonl (docs/reference.md section 8.6).
#include "backends/open.hpp"
#include "cli.hpp"
#include "commands.hpp"

int main(int argc, char** argv) {
  oos::tools::cleanup::Command command;
  if (auto done = oos::tools::cleanup::parse(argc, argv, command)) return *done;
  return oos::store::run_with_backend(
      "oos-cleanup", command.common, oos::db::Access::read_write,
      [&](auto& context, auto& backend) { return oos::tools::cleanup::run(command, context, backend); });
}
