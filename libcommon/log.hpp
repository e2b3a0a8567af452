// Logging (docs/reference.md section 12): journal fields under systemd, JSON lines or text otherwise, and an
// optional rotating file. Structured fields become OOS_<KEY> journal fields or JSON members.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config.hpp"
#include "sd/libsystemd.hpp"

namespace spdlog {
class logger;
}

namespace oos::log {

using config::LogFormat;
using config::LogLevel;

// One structured field: key "task_id" becomes OOS_TASK_ID in the journal and "task_id" in JSON.
struct Field {
  std::string_view key;
  std::string value;
};
using Fields = std::initializer_list<Field>;

// The format to use when the configuration says `configured`: automatic means journal when stderr is
// the journal ($JOURNAL_STREAM names stderr's device:inode), text on a terminal, JSON otherwise.
LogFormat resolve_format(LogFormat configured, const char* journal_stream, int stderr_fd);

// One record rendered as a JSON object (no newline) or a text line; pure, for the sinks and the tests.
std::string render_json(std::int64_t unix_ms, LogLevel level, std::string_view tool, std::string_view message,
                        Fields fields);
std::string render_text(std::int64_t unix_ms, LogLevel level, std::string_view tool, std::string_view message,
                        Fields fields);

// A tool's logger. Cheap to pass by reference; not copyable.
class Logger {
 public:
  // `tool` is the SYSLOG_IDENTIFIER ("oos-queue"). `format` must already be resolved (not automatic).
  // In journal mode libsystemd is loaded; if it cannot be, the logger falls back to JSON on stderr.
  Logger(std::string tool, LogLevel level, LogFormat format, const config::LogSettings& settings);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // A logger that drops everything (tests, benchmarks).
  static std::unique_ptr<Logger> discard();

  void log(LogLevel level, std::string_view message, Fields fields = {});
  void debug(std::string_view m, Fields f = {}) { log(LogLevel::debug, m, f); }
  void info(std::string_view m, Fields f = {}) { log(LogLevel::info, m, f); }
  void warn(std::string_view m, Fields f = {}) { log(LogLevel::warn, m, f); }
  void error(std::string_view m, Fields f = {}) { log(LogLevel::error, m, f); }
  void critical(std::string_view m, Fields f = {}) { log(LogLevel::critical, m, f); }

  bool enabled(LogLevel level) const { return level >= m_level; }

  // Calls `clear` before each record written to stderr (not to the journal or the file); an empty one stops it.
  // A progress line on the terminal (util::Progress::finish) erases itself there, so that a record logged while
  // it is drawn starts on a clean line; the next report draws it again below. See ClearBeforeStderr.
  void before_stderr(std::function<void()> clear) { m_before_stderr = std::move(clear); }

 private:
  void send_journal(LogLevel level, std::string_view message, Fields fields);

  std::string m_tool;
  LogLevel m_level;
  LogFormat m_format;
  std::shared_ptr<spdlog::logger> m_stderr;  // null in journal mode
  std::shared_ptr<spdlog::logger> m_file;    // null without log.file
  std::optional<sd::Libsystemd> m_systemd;   // loaded in journal mode only
  std::function<void()> m_before_stderr;     // see before_stderr()
};

// Logger::before_stderr(clear) while it lives.
class ClearBeforeStderr {
 public:
  ClearBeforeStderr(Logger& logger, std::function<void()> clear) : m_logger(logger) {
    logger.before_stderr(std::move(clear));
  }
  ~ClearBeforeStderr() { m_logger.before_stderr({}); }
  ClearBeforeStderr(const ClearBeforeStderr&) = delete;
  ClearBeforeStderr& operator=(const ClearBeforeStderr&) = delete;

 private:
  Logger& m_logger;
};

}  // namespace oos::log
