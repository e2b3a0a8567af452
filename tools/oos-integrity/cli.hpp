// The command line of oos-integrity (docs/reference.md section 8.5).
#pragma once

#include <optional>

#include "app/context.hpp"

namespace oos::tools::integrity {

struct Command {
  app::CommonOptions common;
  bool vacuum = false;  // the vacuum verb (check is the default)
  bool quick = false;
  bool no_repair = false;
  bool json = false;
};

// Parses argv into `command`. Returns an exit code when the process should stop (help, version, usage
// error), nullopt to go on.
std::optional<int> parse(int argc, char** argv, Command& command);

}  // namespace oos::tools::integrity
