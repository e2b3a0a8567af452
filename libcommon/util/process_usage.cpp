#include "util/process_usage.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <sstream>
#include <vector>

#include "util/files.hpp"

namespace oos::util {
namespace {

double seconds(const timeval& user, const timeval& system) {
  return static_cast<double>(user.tv_sec + system.tv_sec) + static_cast<double>(user.tv_usec + system.tv_usec) / 1e6;
}

std::uint64_t page_size() {
  return static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

template <typename Int>
bool parse_int(const std::string& text, Int& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

std::string malformed(const std::filesystem::path& path, const std::string& cause) {
  return "malformed '" + path.string() + "': " + cause;
}

}  // namespace

std::expected<std::uint64_t, std::string> read_statm_rss(const std::filesystem::path& path) {
  auto text = read_file(path);
  if (!text) return std::unexpected(text.error());
  std::istringstream in(*text);
  std::string size, resident;
  std::uint64_t pages = 0, ignored = 0;
  if (!(in >> size >> resident) || !parse_int(size, ignored) || !parse_int(resident, pages))
    return std::unexpected(malformed(path, "expected sizes in pages, got '" + text->substr(0, text->find('\n')) + "'"));
  return pages * page_size();
}

std::expected<ProcessStat, std::string> read_process_stat(const std::filesystem::path& path) {
  auto text = read_file(path);
  if (!text) return std::unexpected(text.error());
  // "pid (comm) state ppid ...": comm may hold anything, so the fields start after the last ')'.
  auto close = text->rfind(')');
  if (close == std::string::npos) return std::unexpected(malformed(path, "no '(command)' field"));
  std::istringstream in(text->substr(close + 1));
  std::vector<std::string> fields;  // fields[0] is field 3 of proc(5), the state
  for (std::string field; in >> field;) fields.push_back(field);
  auto field = [&](std::size_t number) -> const std::string& { return fields[number - 3]; };
  if (fields.size() < 22 || field(3).size() != 1)  // fields 3 to 24
    return std::unexpected(malformed(path, "expected at least 24 fields"));
  std::uint64_t utime = 0, stime = 0, start = 0, rss_pages = 0;
  std::int64_t cutime = 0, cstime = 0, threads = 0;
  if (!parse_int(field(14), utime) || !parse_int(field(15), stime) || !parse_int(field(16), cutime) ||
      !parse_int(field(17), cstime) || !parse_int(field(20), threads) || !parse_int(field(22), start) ||
      !parse_int(field(24), rss_pages))
    return std::unexpected(malformed(path, "a numeric field is not a number"));
  auto ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  ProcessStat stat;
  stat.state = field(3)[0];
  stat.cpu_seconds = static_cast<double>(utime + stime) / ticks;
  stat.children_cpu_seconds = static_cast<double>(cutime + cstime) / ticks;
  stat.threads = threads;
  stat.start_ticks = start;
  stat.rss_bytes = rss_pages * page_size();
  return stat;
}

ProcessUsage process_usage(const std::filesystem::path& statm) {
  ProcessUsage usage;
  if (auto rss = read_statm_rss(statm)) usage.rss_bytes = *rss;
  rusage self{}, children{};
  if (::getrusage(RUSAGE_SELF, &self) == 0) usage.cpu_seconds = seconds(self.ru_utime, self.ru_stime);
  if (::getrusage(RUSAGE_CHILDREN, &children) == 0)
    usage.children_cpu_seconds = seconds(children.ru_utime, children.ru_stime);
  return usage;
}

std::string host_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || !*host) return "localhost";
  return host;
}

}  // namespace oos::util
