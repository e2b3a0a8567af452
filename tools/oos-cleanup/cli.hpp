// The command line of oos-cleanup (docs/reference.md section 8.6).
#pragma once

#include <optional>

#include "app/context.hpp"
#include "dry_run.hpp"

namespace oos::tools::cleanup {

struct Command {
  app::CommonOptions common;
  DryRun dry_run = DryRun::no;
  bool force = false;
  bool json = false;
};

// Parses argv into `command`. Returns an exit code when the process should stop (help, version, usage
// error), nullopt to go on.
std::optional<int> parse(int argc, char** argv, Command& command);

}  // namespace oos::tools::cleanup
