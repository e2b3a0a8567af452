// The command line of oos-backup (docs/reference.md section 8.4).
#pragma once

#include <optional>
#include <string>

#include "app/context.hpp"
#include "dry_run.hpp"

namespace oos::tools::backup {

enum class Verb { create, list, verify, restore, prune };

struct Command {
  Verb verb = Verb::create;
  app::CommonOptions common;
  std::optional<std::string> file;  // verify FILE, restore FILE
  bool latest = false;              // restore --latest
  DryRun dry_run = DryRun::no;
  bool json = false;
};

// Parses argv into `command`. Returns an exit code when the process should stop (help, version, usage
// error), nullopt to go on.
std::optional<int> parse(int argc, char** argv, Command& command);

}  // namespace oos::tools::backup
