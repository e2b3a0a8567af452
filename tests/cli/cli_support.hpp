// Running oos-queue (and later the other tools) as a process against a temporary state directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "config.hpp"
#include "db/database.hpp"
#include "log.hpp"
#include "queue/task_store.hpp"
#include "support/temp_dir.hpp"
#include "util/subprocess.hpp"
#include "util/time.hpp"

namespace oos::test {

// The --json form of a breaker that never tripped, with the default cooldown.
inline constexpr const char* k_closed_breaker_json =
    R"({"state":"closed","consecutive_failures":0,"cooldown_seconds":60,"opened_at":null,"probe_at":null})";

// A temporary state directory (with an empty config file) and the means to run a tool against it.
class CliFixture {
 public:
  CliFixture();
  // Runs the oos-queue binary (from $OOS_QUEUE_BIN) with --state-dir and --config prepended.
  util::RunResult queue(const std::vector<std::string>& args, const std::string& stdin_data = "");
  // Runs the oos-retry binary (from $OOS_RETRY_BIN) the same way.
  util::RunResult retry(const std::vector<std::string>& args, const std::string& stdin_data = "");
  // Runs oos-queue with this fixture's config but another state directory.
  util::RunResult queue_at(const std::filesystem::path& state_dir, const std::vector<std::string>& args,
                           const std::string& stdin_data = "");
  // Runs any argv with the environment of the test (no options added).
  util::RunResult run(const std::vector<std::string>& argv, const std::string& stdin_data = "");
  // A single integer from a SQL query on the state database (opened read-only by a separate connection).
  long long sql_int(const std::string& sql);
  // A single text value from a SQL query on the state database ("" for NULL).
  std::string sql_text(const std::string& sql);
  // Runs SQL statements on the state database through a read-write connection, to set up states that no
  // oos-queue command creates (running tasks, attempt history, open breakers).
  void sql_exec(const std::string& sql);
  std::filesystem::path db_path() const { return state_dir() / "oos.db"; }
  std::filesystem::path state_dir() const { return m_dir / "state"; }
  std::filesystem::path config_path() const { return m_dir / "oos.toml"; }
  void write_config(const std::string& toml);
  const TempDir& dir() const { return m_dir; }

 private:
  TempDir m_dir;
};

// Plays the part of a worker through liboos's TaskStore on a manual clock (there is no worker binary to run
// yet), so that runs, failures and attempt history are recorded exactly as a worker records them, at times the
// test chooses. Uses the built-in config defaults except for the backoff: a failed run that is retried is
// runnable again at once (backoff [0], no jitter), so tests can tell the run_at of a retry.
class LibraryWorker {
 public:
  LibraryWorker(const std::filesystem::path& db_path, util::UnixMillis start, std::string name = "w1");
  // Claims the next runnable task of `queue`; throws std::runtime_error when nothing is runnable.
  queue::ClaimedTask claim(const std::string& queue);
  void advance(std::int64_t ms) { m_clock.advance(ms); }
  util::UnixMillis now() const { return m_clock.now(); }
  void complete(const queue::ClaimedTask& task, const std::string& result = "");
  void fail(const queue::ClaimedTask& task, policy::FailureKind kind, const std::string& error,
            std::optional<int> exit_code);

 private:
  std::string m_name;
  config::Config m_config;
  util::ManualClock m_clock;
  std::unique_ptr<log::Logger> m_logger;
  std::unique_ptr<db::Database> m_db;
  std::unique_ptr<queue::TaskStore> m_store;
};

// The path of a binary under test from the environment variable `var`.
std::string binary_from_env(const char* var);

// The current time in Unix milliseconds, for rows a test inserts.
std::int64_t now_ms();

// Whether `err` is exactly one line "oos-queue: error: ..." (DESIGN.md section 8).
bool is_one_error_line(const std::string& err);

}  // namespace oos::test
