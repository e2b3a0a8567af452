// The command line of oos-search (docs/reference.md section 8.8).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/context.hpp"

namespace oos::tools::search {

enum class Verb { search, quota };

struct Command {
  Verb verb = Verb::search;
  app::CommonOptions common;
  std::vector<std::string> words;  // the query, joined with spaces
  int num = 10;
  int start = 1;
  bool json = false;
  bool no_cache = false;
  std::optional<std::string> max_wait;       // a duration; default search.max_wait
  std::optional<std::string> reset_breaker;  // quota --reset-breaker PROVIDER
};

// Parses argv into `command`. Returns an exit code when the process should stop (help, version, usage
// error), nullopt to go on.
std::optional<int> parse(int argc, char** argv, Command& command);

// How `command` uses the database: read-only for the commands that only read (quota without --reset-breaker).
db::Access access(const Command& command);

}  // namespace oos::tools::search
