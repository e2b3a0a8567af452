#include "util/subprocess.hpp"

#include <unistd.h>

#include <cstdlib>
#include <limits>
#include <sstream>

#include "util/child_process.hpp"

extern char** environ;

namespace oos::util {

RunResult run_program(const std::vector<std::string>& argv, const RunOptions& options) {
  ChildSpec spec;
  spec.argv = argv;
  if (options.env) {
    spec.env = *options.env;
  } else {
    for (char** entry = environ; *entry; ++entry) spec.env.emplace_back(*entry);
  }
  spec.stdin_data = options.stdin_data;
  spec.stdout_cap = std::numeric_limits<std::size_t>::max();
  spec.stderr_tail = std::numeric_limits<std::size_t>::max();
  ChildProcess child(spec);
  while (!child.step(1000)) {
  }
  const auto& exit = child.result();
  RunResult result;
  result.exit_code = exit.exit_code ? *exit.exit_code : 128 + exit.signal.value_or(0);
  result.out = exit.out;
  result.err = exit.err_tail;
  return result;
}

std::optional<std::filesystem::path> find_program(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    auto candidate = std::filesystem::path(dir.empty() ? "." : dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

}  // namespace oos::util
