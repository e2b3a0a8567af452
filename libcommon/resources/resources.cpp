#include "resources/resources.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <vector>

#include "util/fd.hpp"

namespace oos::resources {
namespace {

namespace fs = std::filesystem;

// The whole content of a small file, read with read(2) so that the errno of a failed read reaches the caller
// (a /proc/pressure file opens but fails to read when PSI is switched off); the errno otherwise.
[[nodiscard]] std::expected<std::string, int> read_small_file(const fs::path& path) {
  util::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::unexpected(errno);
  std::string content;
  char buffer[4096];
  while (true) {
    auto n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::unexpected(errno);
    if (n == 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
  }
  return content;
}

std::string cannot_read(const fs::path& path, int error) {
  return "cannot read '" + path.string() + "': " + std::strerror(error);
}

std::string malformed(const fs::path& path, const std::string& cause) {
  return "malformed '" + path.string() + "': " + cause;
}

// `text` as a finite, non-negative number, all of it.
std::optional<double> parse_number(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) || value < 0) return std::nullopt;
  return value;
}

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

// The first line of `text`, shortened for an error message.
std::string excerpt(const std::string& text) {
  auto line = text.substr(0, text.find('\n'));
  return line.size() > 60 ? line.substr(0, 60) + "..." : line;
}

}  // namespace

std::expected<LoadAverage, std::string> read_loadavg(const fs::path& path) {
  auto text = read_small_file(path);
  if (!text) return std::unexpected(cannot_read(path, text.error()));
  auto fields = words(*text);
  std::optional<double> values[3];
  for (std::size_t i = 0; i < 3 && i < fields.size(); ++i) values[i] = parse_number(fields[i]);
  if (!values[0] || !values[1] || !values[2])
    return std::unexpected(malformed(path, "expected three load averages, got '" + excerpt(*text) + "'"));
  return LoadAverage{*values[0], *values[1], *values[2]};
}

double MemoryInfo::available_percent() const {
  if (total_bytes == 0) return 100.0;
  return std::min(100.0, 100.0 * static_cast<double>(available_bytes) / static_cast<double>(total_bytes));
}

std::expected<MemoryInfo, std::string> read_meminfo(const fs::path& path) {
  auto text = read_small_file(path);
  if (!text) return std::unexpected(cannot_read(path, text.error()));
  std::optional<std::uint64_t> total, available;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto key = line.substr(0, colon);
    std::optional<std::uint64_t>* slot = key == "MemTotal" ? &total : key == "MemAvailable" ? &available : nullptr;
    if (!slot) continue;
    auto fields = words(line.substr(colon + 1));
    auto kib = fields.size() == 2 && fields[1] == "kB" ? parse_unsigned(fields[0]) : std::nullopt;
    if (!kib || *kib > std::numeric_limits<std::uint64_t>::max() / 1024)
      return std::unexpected(malformed(path, "expected '" + key + ": N kB', got '" + line + "'"));
    *slot = *kib * 1024;
  }
  if (!total) return std::unexpected(malformed(path, "no MemTotal line"));
  if (!available) return std::unexpected(malformed(path, "no MemAvailable line (Linux 3.14 or later has one)"));
  if (*total == 0) return std::unexpected(malformed(path, "MemTotal is 0"));
  return MemoryInfo{*total, *available};
}

std::expected<std::optional<Pressure>, std::string> read_pressure(const fs::path& path) {
  auto text = read_small_file(path);
  if (!text) {
    if (text.error() == ENOENT || text.error() == EOPNOTSUPP) return std::nullopt;
    return std::unexpected(cannot_read(path, text.error()));
  }
  Pressure pressure;
  bool some_seen = false;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    auto fields = words(line);
    if (fields.empty()) continue;
    bool some = fields[0] == "some";
    if (!some && fields[0] != "full") return std::unexpected(malformed(path, "unexpected line '" + line + "'"));
    std::optional<double> avg10, avg60;
    for (std::size_t i = 1; i < fields.size(); ++i) {
      if (fields[i].starts_with("avg10=")) avg10 = parse_number(std::string_view(fields[i]).substr(6));
      if (fields[i].starts_with("avg60=")) avg60 = parse_number(std::string_view(fields[i]).substr(6));
    }
    if (!avg10 || !avg60) return std::unexpected(malformed(path, "expected avg10= and avg60= in '" + line + "'"));
    (some ? pressure.some_avg10 : pressure.full_avg10) = *avg10;
    (some ? pressure.some_avg60 : pressure.full_avg60) = *avg60;
    some_seen = some_seen || some;
  }
  if (!some_seen) return std::unexpected(malformed(path, "no 'some' line"));
  return pressure;
}

}  // namespace oos::resources
