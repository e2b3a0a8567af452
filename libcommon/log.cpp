#include "log.hpp"

#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <cctype>
#include <cstdio>
#include <vector>

#include "util/files.hpp"
#include "util/json.hpp"
#include "util/time.hpp"

namespace oos::log {
namespace {

// syslog priorities for the journal's PRIORITY= field.
int priority_of(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return 7;
    case LogLevel::info: return 6;
    case LogLevel::warn: return 4;
    case LogLevel::error: return 3;
    case LogLevel::critical: return 2;
  }
  return 6;
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& name, spdlog::sink_ptr sink) {
  sink->set_pattern("%v");
  auto logger = std::make_shared<spdlog::logger>(name, std::move(sink));
  logger->set_level(spdlog::level::trace);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

}  // namespace

LogFormat resolve_format(LogFormat configured, const char* journal_stream, int stderr_fd) {
  if (configured != LogFormat::automatic) return configured;
  if (journal_stream && *journal_stream) {
    struct stat st {};
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(journal_stream, "%llu:%llu", &dev, &ino) == 2 && ::fstat(stderr_fd, &st) == 0 && st.st_dev == dev &&
        st.st_ino == ino)
      return LogFormat::journal;
  }
  return ::isatty(stderr_fd) ? LogFormat::text : LogFormat::json;
}

std::string render_json(std::int64_t unix_ms, LogLevel level, std::string_view tool, std::string_view message,
                        Fields fields) {
  auto line = fmt::format(R"({{"ts":"{}","level":"{}","tool":{},"msg":{})", util::format_iso8601(unix_ms),
                          config::to_string(level), util::json_quote(tool), util::json_quote(message));
  for (const auto& f : fields) line += fmt::format(",{}:{}", util::json_quote(f.key), util::json_quote(f.value));
  line += "}";
  return line;
}

std::string render_text(std::int64_t unix_ms, LogLevel level, std::string_view tool, std::string_view message,
                        Fields fields) {
  auto line = fmt::format("{} {} {}: {}", util::format_iso8601(unix_ms), config::to_string(level), tool, message);
  for (const auto& f : fields) line += fmt::format(" {}={}", f.key, f.value);
  return line;
}

Logger::Logger(std::string tool, LogLevel level, LogFormat format, const config::LogSettings& settings)
    : m_tool(std::move(tool)), m_level(level), m_format(format) {
  std::string fallback_reason;
  if (m_format == LogFormat::journal) {
    if (auto systemd = sd::Libsystemd::load()) {
      m_systemd.emplace(std::move(*systemd));
    } else {
      m_format = LogFormat::json;
      fallback_reason = systemd.error();
    }
  }
  if (m_format != LogFormat::journal) m_stderr = make_logger(m_tool, std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (!settings.file.empty()) {
    // spdlog creates the log (and each new one after a rotation) with fopen, 0644 under umask 022; the log
    // holds what the tools say about tasks, so each is created 0600 first (an existing file keeps its mode).
    spdlog::file_event_handlers handlers;
    handlers.before_open = [](const spdlog::filename_t& name) {
      // spdlog would create a missing directory after this; a failure is left for spdlog to report.
      if (auto dir = std::filesystem::path(name).parent_path(); !dir.empty()) {
        [[maybe_unused]] auto made = util::ensure_directory(dir);
      }
      [[maybe_unused]] auto created = util::create_private(name);
    };
    m_file = make_logger(m_tool + "-file", std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
                                               settings.file, settings.max_size,
                                               static_cast<std::size_t>(settings.max_files), false, handlers));
  }
}

Logger::~Logger() = default;

std::unique_ptr<Logger> Logger::discard() {
  auto logger = std::make_unique<Logger>("oos", LogLevel::critical, LogFormat::text, config::LogSettings{});
  logger->m_stderr.reset();
  logger->m_level = static_cast<LogLevel>(static_cast<int>(LogLevel::critical) + 1);
  return logger;
}

void Logger::log(LogLevel level, std::string_view message, Fields fields) {
  if (!enabled(level)) return;
  auto now = util::SystemClock().now();
  if (m_format == LogFormat::journal) {
    send_journal(level, message, fields);
  } else if (m_stderr) {
    if (m_before_stderr) m_before_stderr();
    m_stderr->info(m_format == LogFormat::text ? render_text(now, level, m_tool, message, fields)
                                               : render_json(now, level, m_tool, message, fields));
  }
  if (m_file) m_file->info(render_json(now, level, m_tool, message, fields));
}

void Logger::send_journal(LogLevel level, std::string_view message, Fields fields) {
  std::vector<std::string> entries;
  entries.reserve(fields.size() + 3);
  entries.push_back("MESSAGE=" + std::string(message));
  entries.push_back("PRIORITY=" + std::to_string(priority_of(level)));
  entries.push_back("SYSLOG_IDENTIFIER=" + m_tool);
  for (const auto& f : fields) {
    std::string name = "OOS_";
    for (char c : f.key) name.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    entries.push_back(name + "=" + f.value);
  }
  std::vector<iovec> iov;
  iov.reserve(entries.size());
  for (auto& e : entries) iov.push_back({e.data(), e.size()});
  m_systemd->journal_sendv(iov.data(), static_cast<int>(iov.size()));
}

}  // namespace oos::log
