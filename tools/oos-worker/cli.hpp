// The command line of oos-worker (docs/reference.md section 8.2).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/context.hpp"

namespace oos::tools::worker {

struct Command {
  app::CommonOptions common;
  std::vector<std::string> queues;  // --queue, repeatable; default worker.queues
  std::optional<std::string> name;  // --name; default HOSTNAME:PID
  bool drain = false;
  std::optional<std::int64_t> max_tasks;
};

// Parses argv into `command`. Returns an exit code when the process should stop (help, version, usage
// error), nullopt to go on.
std::optional<int> parse(int argc, char** argv, Command& command);

}  // namespace oos::tools::worker
