// What every tool's main sets up the same way: the common options, the config, the state directory,
// the logger and the database; and the wrapper that maps failures to exit codes.
#pragma once

#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config.hpp"
#include "db/database.hpp"
#include "log.hpp"
#include "util/time.hpp"

namespace oos::app {

// The options every tool takes (docs/reference.md section 2).
struct CommonOptions {
  std::optional<std::filesystem::path> config_path;  // --config
  std::optional<std::filesystem::path> state_dir;    // --state-dir
  std::optional<std::string> log_level;              // --log-level
};

// The state directory of docs/reference.md section 4: --state-dir, $OOS_STATE_DIR, paths.state_dir,
// $STATE_DIRECTORY (systemd), /var/lib/oos. Null or empty arguments are skipped.
std::filesystem::path resolve_state_dir(const std::optional<std::filesystem::path>& flag, const char* oos_state_dir,
                                        const std::optional<std::string>& configured, const char* systemd_state_dir);

// Everything a command needs, built once from the common options.
struct Context {
  std::string tool;
  config::Config config;
  std::filesystem::path state_dir;
  std::unique_ptr<log::Logger> logger;
  util::SystemClock clock;

  std::filesystem::path db_path() const { return state_dir / "oos.db"; }
  // backup.dir, else <state_dir>/backups.
  std::filesystem::path backup_dir() const {
    return config.backup.dir.empty() ? state_dir / "backups" : std::filesystem::path(config.backup.dir);
  }
};

// Loads the config (exit 78 on errors), resolves the state directory and sets up logging.
// An invalid --log-level is a usage error (64).
Context make_context(std::string tool, const CommonOptions& options);

// For the host-local tools whose work a PostgreSQL server does itself (backups, integrity): throws oos::Error 69
// "TOOL does not run on PostgreSQL (db.url or OOS_DATABASE_URL is set): `instead`" when a URL is set (78 for a bad
// one), before anything is read or written.
void refuse_postgresql(const Context& context, std::string_view instead);

// Creates the state directory if needed (exit 74 when it cannot) and opens oos.db. While db.url or
// $OOS_DATABASE_URL is set it refuses with 69 instead (the tool does not run on PostgreSQL yet). With Access::read_only
// (a command that only reads) it creates neither: a missing state directory or database is 66, a state
// directory that is not a directory 74.
std::unique_ptr<db::Database> open_database(const Context& context, db::Access access = db::Access::read_write);

// Filled in by the body as it learns more, so that errors can name their object.
struct RunState {
  std::filesystem::path db_path;
};

// The exit code and the one-line message for an exception that escaped a tool's body: oos::Error carries
// its own code, SQLite failures are translated (naming `db_path`), anything else is an internal error (70).
struct Failure {
  int code;
  std::string message;
};
Failure describe_failure(std::exception_ptr error, const std::filesystem::path& db_path);

// Runs a tool's body and turns what escapes it into an exit code and one line on stderr:
// "oos-queue: error: <message>" (describe_failure()). Tells systemd the exit status when under a notify socket.
int run_main(std::string_view tool, const std::function<int(RunState&)>& body);

}  // namespace oos::app
