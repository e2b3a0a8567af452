// A process's resource use, for the worker's metrics line and its memory release: readers of
// /proc/<pid>/statm and /proc/<pid>/stat that take the file's path (tests feed their own files), and this
// process's usage.
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <string>

namespace oos::util {

struct ProcessUsage {
  std::uint64_t rss_bytes = 0;      // resident set size (/proc/self/statm)
  double cpu_seconds = 0;           // user + system time of this process
  double children_cpu_seconds = 0;  // of its children that have been reaped (the handlers)
};

// This process's usage: the RSS from `statm` (0 when it cannot be read), CPU times from getrusage(2).
ProcessUsage process_usage(const std::filesystem::path& statm = "/proc/self/statm");

// The resident set size in bytes from a statm file: its second field (pages) times the page size.
// Errors name the file and the cause.
[[nodiscard]] std::expected<std::uint64_t, std::string> read_statm_rss(
    const std::filesystem::path& path = "/proc/self/statm");

// The fields of a stat file (proc(5)) that OOS looks at.
struct ProcessStat {
  char state = '?';                 // R running, S sleeping, D disk sleep, Z zombie, ...
  double cpu_seconds = 0;           // utime + stime
  double children_cpu_seconds = 0;  // cutime + cstime: children waited for
  std::int64_t threads = 0;
  std::uint64_t start_ticks = 0;  // start time after boot, in clock ticks: with the pid, identifies the process
  std::uint64_t rss_bytes = 0;
};

// Parses a stat file ("5763 (cat) R 5749 ..."); the command name in parentheses may hold spaces and
// parentheses. Errors name the file and the cause.
[[nodiscard]] std::expected<ProcessStat, std::string> read_process_stat(
    const std::filesystem::path& path = "/proc/self/stat");

// This host's name (gethostname(2)); "localhost" when it has none. Worker rows carry it, so that a pid is
// only looked up on the host it belongs to.
std::string host_name();

}  // namespace oos::util
