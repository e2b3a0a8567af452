#include "app/context.hpp"
#include "app/read_config.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "error.hpp"
#include "sd/libsystemd.hpp"
#include "store/database_url.hpp"
#include "util/files.hpp"

namespace oos::app {

std::filesystem::path resolve_state_dir(const std::optional<std::filesystem::path>& flag, const char* oos_state_dir,
                                        const std::optional<std::string>& configured, const char* systemd_state_dir) {
  if (flag && !flag->empty()) return *flag;
  if (oos_state_dir && *oos_state_dir) return oos_state_dir;
  if (configured && !configured->empty()) return *configured;
  if (systemd_state_dir && *systemd_state_dir) {
    // StateDirectory= may list several directories separated by ':'; ours is the first.
    std::string dirs(systemd_state_dir);
    return dirs.substr(0, dirs.find(':'));
  }
  return "/var/lib/oos";
}

config::Config read_config(const CommonOptions& options) {
  auto config = config::load_config(options.config_path);
  if (options.log_level) {
    auto level = config::parse_log_level(*options.log_level);
    if (!level)
      throw Error(ExitCode::usage,
                  "--log-level: invalid level '" + *options.log_level + "': use debug, info, warn, error or critical");
    config.log.level = *level;
  }
  if (const char* format = std::getenv("OOS_LOG_FORMAT"); format && *format) {
    auto parsed = config::parse_log_format(format);
    if (!parsed)
      throw Error(ExitCode::config,
                  std::string("OOS_LOG_FORMAT: invalid format '") + format + "': use auto, journal, json or text");
    config.log.format = *parsed;
  }
  return config;
}

Context make_context(std::string tool, const CommonOptions& options) {
  Context context;
  context.tool = std::move(tool);
  context.config = read_config(options);
  context.state_dir = resolve_state_dir(options.state_dir, std::getenv("OOS_STATE_DIR"), context.config.state_dir,
                                        std::getenv("STATE_DIRECTORY"));
  auto format = log::resolve_format(context.config.log.format, std::getenv("JOURNAL_STREAM"), STDERR_FILENO);
  context.logger = std::make_unique<log::Logger>(context.tool, context.config.log.level, format, context.config.log);
  return context;
}

void refuse_postgresql(const Context& context, std::string_view instead) {
  if (store::resolve_database_url(context.config.db.url, std::getenv("OOS_DATABASE_URL")))
    throw Error(
        ExitCode::unavailable,
        fmt::format("{} does not run on PostgreSQL (db.url or OOS_DATABASE_URL is set): {}", context.tool, instead));
}

std::unique_ptr<db::Database> open_database(const Context& context, db::Access access) {
  // A safety net: a caller that only knows SQLite must not quietly use the state directory's file when the operator
  // pointed the tools at a shared PostgreSQL. The tools that open the state database this way (oos-backup,
  // oos-integrity) refuse earlier with what to use instead (refuse_postgresql); every other tool opens a
  // store::Backend. No list of tools here, so that it cannot fall behind docs/reference.md section 19.
  if (store::resolve_database_url(context.config.db.url, std::getenv("OOS_DATABASE_URL")))
    throw Error(ExitCode::unavailable,
                context.tool +
                    " works on the state directory's SQLite database, and db.url or OOS_DATABASE_URL is set: run it "
                    "where neither is set (man oos lists the tools that run on PostgreSQL)");
  if (access == db::Access::read_write) {
    if (auto made = util::ensure_directory(context.state_dir); !made)
      throw Error(ExitCode::io_error, "state directory: " + made.error());
  } else if (std::error_code ec; !std::filesystem::is_directory(context.state_dir, ec)) {
    auto dir = "state directory '" + context.state_dir.string() + "'";
    if (std::filesystem::exists(context.state_dir, ec))
      throw Error(ExitCode::io_error, dir + " is not a directory: move it away or point --state-dir elsewhere");
    throw Error(ExitCode::no_input, dir +
                                        " does not exist: a command that only reads does not create it (check "
                                        "--state-dir, $OOS_STATE_DIR and paths.state_dir)");
  }
  return std::make_unique<db::Database>(
      db::OpenOptions{context.db_path(), context.config.db.synchronous, context.config.db.busy_timeout, access});
}

Failure describe_failure(std::exception_ptr error, const std::filesystem::path& db_path) {
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    return {static_cast<int>(e.code()), e.what()};
  } catch (const SQLite::Exception& e) {
    auto translated = db::translate(e, db_path.empty() ? std::filesystem::path("oos.db") : db_path);
    return {static_cast<int>(translated.code()), translated.what()};
  } catch (const std::exception& e) {
    return {static_cast<int>(ExitCode::software),
            std::string("internal error: ") + e.what() + " (this is a bug; please report it)"};
  }
}

int run_main(std::string_view tool, const std::function<int(RunState&)>& body) {
  RunState state;
  int code = 0;
  try {
    code = body(state);
  } catch (const std::exception&) {
    auto failure = describe_failure(std::current_exception(), state.db_path);
    code = failure.code;
    std::cerr << tool << ": error: " << failure.message << '\n';
  }
  if (std::getenv("NOTIFY_SOCKET")) {
    if (auto systemd = sd::Libsystemd::load()) systemd->notify(("EXIT_STATUS=" + std::to_string(code)).c_str());
  }
  return code;
}

}  // namespace oos::app
