// The command line of oos-retry, the dead letter queue tool (docs/reference.md section 8.3).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/context.hpp"
#include "dry_run.hpp"
#include "queue/list_limits.hpp"

namespace oos::tools::retry {

enum class Verb { list, show, requeue, purge };

struct Command {
  Verb verb = Verb::list;
  app::CommonOptions common;
  std::vector<std::int64_t> ids;     // requeue IDs (also `oos-retry ID...`), show ID
  bool all = false;                  // requeue --all
  std::optional<std::string> queue;  // filters for list and requeue --all
  std::optional<std::string> type;
  std::optional<std::string> error_match;
  std::optional<std::string> older_than;  // purge --older-than DUR
  int limit = static_cast<int>(oos::queue::k_default_dead_limit);
  DryRun dry_run = DryRun::no;
  bool json = false;
};

// Parses argv into `command`. Returns an exit code when the process should stop (help, version, usage
// error), nullopt to go on.
std::optional<int> parse(int argc, char** argv, Command& command);

// How `command` uses the database: read-only for the commands that only read (list, show).
db::Access access(const Command& command);

}  // namespace oos::tools::retry
