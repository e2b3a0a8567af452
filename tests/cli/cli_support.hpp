// Running the tools (oos-queue, oos-retry, oos-worker) as processes against a temporary state directory.
#pragma once

#include <sys/types.h>

#include <boost/test/tree/decorator.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "db/database.hpp"
#include "log.hpp"
#include "pg/connection.hpp"
#include "queue/task_store.hpp"
#include "support/pg_cluster.hpp"
#include "support/temp_dir.hpp"
#include "util/child_process.hpp"
#include "util/subprocess.hpp"
#include "util/time.hpp"

namespace oos::test {

// Whether the tests and tools are built with AddressSanitizer (make dev-test): time runs slower and freed memory
// is held in ASan's quarantine.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool k_address_sanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool k_address_sanitizer = true;
#else
inline constexpr bool k_address_sanitizer = false;
#endif
#else
inline constexpr bool k_address_sanitizer = false;
#endif

// A tool running in the background (util::ChildProcess, its own process group) whose output is collected
// whenever the test pumps it. The destructor kills its group (not the process groups of the handlers it
// started: guard those with KillAtExit).
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env);
  pid_t pid() const { return m_child.pid(); }
  // Moves its output for at most `wait_ms`; true once it has exited (and its output is complete).
  bool pump(int wait_ms = 0);
  // Waits up to `timeout` for it to exit, pumping; its exit code (128 + signal), -1 while still running.
  int wait(std::chrono::milliseconds timeout);
  // Sends `signal` to the process itself (not to its group).
  void signal(int signal);
  // Everything it wrote so far.
  const std::string& out() const { return m_child.result().out; }
  const std::string& err() const { return m_child.result().err_tail; }

 private:
  util::ChildProcess m_child;
  bool m_exited = false;
};

// The --json form of a breaker that never tripped, with the default cooldown.
inline constexpr const char* k_closed_breaker_json =
    R"({"state":"closed","consecutive_failures":0,"cooldown_seconds":60,"opened_at":null,"probe_at":null})";

// The store the cli suites run the tools against: SQLite in the state directory (the tests cli.<suite>), or a
// schema of the PostgreSQL test cluster (support/pg_cluster) named by OOS_DATABASE_URL: the tests cli_pg.<suite>,
// the same cases run again with OOS_TEST_BACKEND=pg (docs/decisions.md).
enum class TestBackend { sqlite, pg };
// The backend $OOS_TEST_BACKEND names ("pg"; unset or "sqlite": SQLite); throws for another value.
TestBackend test_backend();

// Skips the case on PostgreSQL, saying `reason`: a case that checks SQLite itself (its file, its locks, what only
// it can hold). Each such case is listed in docs/decisions.md.
boost::unit_test::precondition sqlite_only(std::string reason);
// Skips the case on PostgreSQL, naming `defect`: a behaviour of the PostgreSQL backend that differs from SQLite's and
// is not fixed yet (listed in docs/decisions.md). Remove it with the fix.
boost::unit_test::precondition known_pg_defect(std::string defect);

// A temporary state directory (with an empty config file) and the means to run a tool against it. On
// TestBackend::pg each test has a fresh schema of the test cluster, OOS_DATABASE_URL names it for every tool the
// test runs (set in this process's environment while the fixture lives), and the sql_ helpers query that schema.
class CliFixture {
 public:
  explicit CliFixture(TestBackend backend = test_backend());
  ~CliFixture();
  CliFixture(const CliFixture&) = delete;
  CliFixture& operator=(const CliFixture&) = delete;
  TestBackend backend() const { return m_schema ? TestBackend::pg : TestBackend::sqlite; }
  // Runs the oos-queue binary (from $OOS_QUEUE_BIN) with --state-dir and --config prepended.
  util::RunResult queue(const std::vector<std::string>& args, const std::string& stdin_data = "");
  // Runs the oos-retry binary (from $OOS_RETRY_BIN) the same way.
  util::RunResult retry(const std::vector<std::string>& args, const std::string& stdin_data = "");
  // Run oos-backup, oos-integrity and oos-cleanup (from $OOS_BACKUP_BIN ...) the same way.
  util::RunResult backup(const std::vector<std::string>& args);
  util::RunResult integrity(const std::vector<std::string>& args);
  util::RunResult cleanup(const std::vector<std::string>& args);
  // Runs the tool named by `binary_env` the same way, in test_environment(extra_env).
  util::RunResult run_tool(const char* binary_env, const std::vector<std::string>& args,
                           const std::vector<std::string>& extra_env = {});
  util::RunResult health(const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {}) {
    return run_tool("OOS_HEALTH_BIN", args, extra_env);
  }
  util::RunResult search(const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {}) {
    return run_tool("OOS_SEARCH_BIN", args, extra_env);
  }
  // Runs oos-queue with this fixture's config but another state directory.
  util::RunResult queue_at(const std::filesystem::path& state_dir, const std::vector<std::string>& args,
                           const std::string& stdin_data = "");
  // Runs the oos-worker binary (from $OOS_WORKER_BIN) with --state-dir and --config prepended, in
  // test_environment(extra_env); a worker still running after scaled(timeout) is killed (exit code 137, and
  // a note on its stderr) so that a hanging worker fails its test instead of hanging the suite.
  util::RunResult worker(const std::vector<std::string>& args, const std::vector<std::string>& extra_env = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Starts oos-worker the same way in the background.
  std::unique_ptr<BackgroundProcess> start_worker(const std::vector<std::string>& args,
                                                  const std::vector<std::string>& extra_env = {});
  // Starts the tool named by `binary_env` ("OOS_INTEGRITY_BIN", ...) the same way in the background.
  std::unique_ptr<BackgroundProcess> start(const char* binary_env, const std::vector<std::string>& args,
                                           const std::vector<std::string>& extra_env = {});
  // Enqueues one task through oos-queue, which must succeed; returns its id.
  long long enqueue(const std::string& queue, const std::string& type, const std::vector<std::string>& options = {});
  // Writes an executable /bin/sh script `name` into the test's directory; returns its path.
  std::filesystem::path write_script(const std::string& name, const std::string& body);
  // Runs any argv with the environment of the test (no options added).
  util::RunResult run(const std::vector<std::string>& argv, const std::string& stdin_data = "");
  // A single integer from a SQL query on the state database (opened read-only by a separate connection,
  // which waits up to scaled(10s) for a lock, as the tools wait for theirs). On PostgreSQL a boolean is 1 or 0,
  // NULL is 0 (as SQLite reads it), and group_concat(X[, SEP]) is string_agg(CAST(X AS text), SEP), so that one
  // query serves both backends.
  long long sql_int(const std::string& sql);
  // A single text value from a SQL query on the state database ("" for NULL).
  std::string sql_text(const std::string& sql);
  // Runs one SQL statement on the state database through a read-write connection, to set up states that no
  // oos-queue command creates (running tasks, attempt history, open breakers).
  void sql_exec(const std::string& sql);
  // Creates the state dir and an empty current-schema database, as a first writing command does (the
  // commands that only read create nothing); on PostgreSQL, migrates the test's schema.
  void create_database();
  // On PostgreSQL: the URL the tools get as OOS_DATABASE_URL, and the key=value connection string of the test's
  // schema (for the test's own connections); empty on SQLite.
  const std::string& database_url() const { return m_url; }
  std::string pg_conninfo() const { return m_schema ? m_schema->conninfo() : std::string(); }
  std::filesystem::path db_path() const { return state_dir() / "oos.db"; }
  std::filesystem::path state_dir() const { return m_dir / "state"; }
  std::filesystem::path config_path() const { return m_dir / "oos.toml"; }
  void write_config(const std::string& toml);
  const TempDir& dir() const { return m_dir; }

  // The tool named by `binary_env` with --state-dir `state_dir` and this fixture's --config, then `args`.
  std::vector<std::string> tool_argv(const char* binary_env, const std::filesystem::path& state_dir,
                                     const std::vector<std::string>& args) const;

 private:
  TempDir m_dir;
  std::unique_ptr<PgSchema> m_schema;  // on PostgreSQL only
  std::string m_url;
};

// Plays the part of a worker through liboos's TaskStore on a manual clock, so that runs, failures and attempt
// history are recorded exactly as a worker records them, at times the test chooses (the worker binary runs on
// the real clock). Uses the built-in config defaults except for the backoff: a failed run that is retried is
// runnable again at once (backoff [0], no jitter), so tests can tell the run_at of a retry. On TestBackend::pg it
// works on the schema $OOS_DATABASE_URL names (the fixture's) through PgTaskStore, and `db_path` is not used.
class LibraryWorker {
 public:
  LibraryWorker(const std::filesystem::path& db_path, util::UnixMillis start, std::string name = "w1");
  ~LibraryWorker();
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
  std::unique_ptr<db::Database> m_db;            // on SQLite
  std::unique_ptr<pg::Connection> m_connection;  // on PostgreSQL
  std::unique_ptr<queue::TaskStore> m_store;
};

// The TOML table [handlers.TYPE] that runs `program` (no arguments), followed by the lines `extra`.
std::string handler_toml(const std::string& type, const std::filesystem::path& program, const std::string& extra = "");

// This test process's environment without the variables through which a service manager would talk to a
// tool (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID) or hand it secrets (CREDENTIALS_DIRECTORY), with the
// "NAME=value" entries of `extra` added (replacing variables of the same name).
std::vector<std::string> test_environment(const std::vector<std::string>& extra = {});

// How many times longer than in the normal build the tools may take in this build: 3 under AddressSanitizer
// (a Debug build, where every process also runs a leak check at exit), 1 otherwise; $OOS_TEST_TIME_SCALE (a
// number >= 1) overrides it. It scales how long a test waits for something, not a duration by which a check
// tells a right behaviour from a wrong one (a handler timeout, the kill grace, a poll interval), so that
// the check keeps its meaning.
double time_scale();
// `duration` times time_scale().
std::chrono::milliseconds scaled(std::chrono::milliseconds duration);

// The time (Unix milliseconds) of the first record of `err` (a tool's log, JSON lines as on a pipe) whose
// message contains `text`; nullopt when there is none. The tool's own clock: a duration between two of its
// records does not include the time it took to start or to exit, or the test's own delays.
std::optional<std::int64_t> log_time(const std::string& err, std::string_view text);

// The first line of `log` (a tool's stderr) that contains `text`, without its newline; "" when none does.
std::string log_line(const std::string& log, std::string_view text);

// Shell lines that wait until `gate` exists (polling every 50 ms): a handler that ends when the test says so,
// however slowly the test runs. The test opens the gate with write_file(gate, "").
std::string wait_for_gate(const std::filesystem::path& gate);

// Polls `condition` every 20 ms until it holds or `timeout` passes, pumping `pumped` in between.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                const std::vector<BackgroundProcess*>& pumped = {});

// Whether process `pid` exists and is not a zombie (orphans are not always reaped in test containers).
bool process_alive(pid_t pid);
// Whether some process of process group `pgid` exists and is not a zombie.
bool group_alive(pid_t pgid);
// The pid written (followed by a newline) to `path`; nullopt while the file is missing or incomplete.
std::optional<pid_t> read_pid(const std::filesystem::path& path);

// Kills, when the test ends however it ends, the process (or the process group) whose pid a handler wrote
// to `pid_file`: a test never leaves a sleeping handler behind.
class KillAtExit {
 public:
  enum class Target { process, group };
  KillAtExit(std::filesystem::path pid_file, Target target) : m_pid_file(std::move(pid_file)), m_target(target) {}
  ~KillAtExit();
  KillAtExit(const KillAtExit&) = delete;
  KillAtExit& operator=(const KillAtExit&) = delete;

 private:
  std::filesystem::path m_pid_file;
  Target m_target;
};

// The whole content of `path` ("" when it does not exist).
std::string read_file(const std::filesystem::path& path);

// Overwrites 4 whole pages in the middle of a database file with random bytes (a seeded, repeatable noise).
void corrupt_pages(const std::filesystem::path& file);

// The path of a binary under test from the environment variable `var`.
std::string binary_from_env(const char* var);

// The current time in Unix milliseconds, for rows a test inserts.
std::int64_t now_ms();

// Whether `err` is exactly one line "oos-queue: error: ..." (docs/reference.md section 2).
bool is_one_error_line(const std::string& err);
// Whether `err` is exactly one line "TOOL: error: ...".
bool is_one_error_line(const std::string& err, std::string_view tool);

}  // namespace oos::test
