// Running a program as a child process and collecting what it prints.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace oos::util {

struct RunResult {
  int exit_code = -1;  // the exit status, or 128 + signal number when killed by a signal
  std::string out;     // everything written to stdout
  std::string err;     // everything written to stderr
};

struct RunOptions {
  std::string stdin_data;                       // written to the child's stdin, then closed
  std::optional<std::vector<std::string>> env;  // "NAME=value" entries; nullopt inherits ours
};

// Runs argv[0] (looked up in PATH when it has no slash) with `argv`, waits for it and returns its exit
// code and all its output (a ChildProcess without caps). Throws std::system_error when the process cannot
// be started.
RunResult run_program(const std::vector<std::string>& argv, const RunOptions& options = {});

// The first executable `program` in the directories of $PATH (an empty entry is the current directory);
// nullopt when there is none.
std::optional<std::filesystem::path> find_program(const std::string& program);

}  // namespace oos::util
