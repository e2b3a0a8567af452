// The command line of oos-health (docs/reference.md section 8.9).
#pragma once

#include <filesystem>
#include <optional>

#include "app/context.hpp"

namespace oos::tools::health {

enum class Verb { check, validate };

struct Command {
  Verb verb = Verb::check;
  app::CommonOptions common;
  bool json = false;
  std::filesystem::path root = "/";  // validate --root: where installed units are looked for
};

// Parses argv into `command`. Returns an exit code when the process should stop (help, version, usage
// error), nullopt to go on.
std::optional<int> parse(int argc, char** argv, Command& command);

}  // namespace oos::tools::health
