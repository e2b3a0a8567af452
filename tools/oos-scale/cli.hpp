// The command line of oos-scale (docs/reference.md section 8.7).
#pragma once

#include <optional>

#include "app/context.hpp"
#include "dry_run.hpp"

namespace oos::tools::scale {

struct Command {
  app::CommonOptions common;
  DryRun dry_run = DryRun::no;
  bool json = false;
};

// Parses argv into `command`. Returns an exit code when the process should stop (help, version, usage
// error), nullopt to go on.
std::optional<int> parse(int argc, char** argv, Command& command);

}  // namespace oos::tools::scale
