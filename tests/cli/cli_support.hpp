// Running oos-queue (and later the other tools) as a process against a temporary state directory.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"
#include "util/subprocess.hpp"

namespace oos::test {

// A temporary state directory (with an empty config file) and the means to run a tool against it.
class CliFixture {
public:
  CliFixture();
  // Runs the oos-queue binary (from $OOS_QUEUE_BIN) with --state-dir and --config prepended.
  util::RunResult queue(const std::vector<std::string>& args, const std::string& stdin_data = "");
  // Runs any argv with the environment of the test (no options added).
  util::RunResult run(const std::vector<std::string>& argv, const std::string& stdin_data = "");
  // A single integer from a SQL query on the state database (opened read-only by a separate connection).
  long long sql_int(const std::string& sql);
  std::filesystem::path state_dir() const { return m_dir / "state"; }
  std::filesystem::path config_path() const { return m_dir / "oos.toml"; }
  void write_config(const std::string& toml);
  const TempDir& dir() const { return m_dir; }

private:
  TempDir m_dir;
};

// The path of a binary under test from the environment variable `var`.
std::string binary_from_env(const char* var);

}  // namespace oos::test
