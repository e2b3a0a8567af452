// The command line of oos-api (docs/reference.md, HTTP API).
#pragma once

#include <optional>
#include <string>

#include "app/context.hpp"

namespace oos::tools::api {

struct Command {
  app::CommonOptions common;
  std::optional<std::string> listen;  // --listen ADDR:PORT; else systemd's socket, else 127.0.0.1:8765
};

// Parses argv into `command`. Returns an exit code when the process should stop (help, version, usage
// error), nullopt to go on.
std::optional<int> parse(int argc, char** argv, Command& command);

}  // namespace oos::tools::api
