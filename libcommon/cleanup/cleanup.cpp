#include "cleanup/cleanup.hpp"

#include <fnmatch.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace oos::cleanup {

namespace fs = std::filesystem;

std::expected<DiskUsage, std::string> disk_usage(const fs::path& path) {
  struct statvfs s {};
  if (::statvfs(path.c_str(), &s) != 0) return std::unexpected(path.string() + ": " + std::strerror(errno));
  DiskUsage usage;
  usage.path = path;
  usage.total_bytes = static_cast<std::uint64_t>(s.f_blocks) * s.f_frsize;
  usage.available_bytes = static_cast<std::uint64_t>(s.f_bavail) * s.f_frsize;
  // As df: used / (used + available to users), so reserved blocks count as not available.
  auto used = static_cast<double>(s.f_blocks - s.f_bfree) * static_cast<double>(s.f_frsize);
  auto denominator = used + static_cast<double>(usage.available_bytes);
  usage.used_percent = denominator > 0 ? 100.0 * used / denominator : 0.0;
  return usage;
}

bool over_threshold(const std::vector<DiskUsage>& usages, int threshold_percent) {
  for (const auto& u : usages)
    if (u.used_percent > threshold_percent) return true;
  return false;
}

std::vector<Match> matching_files(const config::CleanupRule& rule, util::UnixMillis now) {
  std::vector<Match> out;
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(rule.dir, ec))) return out;  // absent, or itself a link
  auto cutoff = now - rule.older_than.count();
  // recursive_directory_iterator does not follow directory symlinks unless asked to.
  for (auto it = fs::recursive_directory_iterator(rule.dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (::fnmatch(rule.pattern.c_str(), it->path().filename().c_str(), 0) != 0) continue;
    auto modified = static_cast<util::UnixMillis>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
    if (modified >= cutoff) continue;
    out.push_back({it->path(), static_cast<std::uint64_t>(st.st_size), modified});
  }
  return out;
}

std::vector<Match> stale_worker_textfiles(const std::filesystem::path& dir,
                                          const std::map<std::string, util::UnixMillis>& heartbeats,
                                          util::UnixMillis now, std::int64_t gone_ms) {
  constexpr std::string_view k_prefix = "oos_worker_", k_suffix = ".prom";
  std::vector<Match> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    auto name = entry.path().filename().string();
    if (!name.starts_with(k_prefix) || !name.ends_with(k_suffix) || name.size() <= k_prefix.size() + k_suffix.size())
      continue;
    struct stat st {};
    if (::lstat(entry.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    auto modified = static_cast<util::UnixMillis>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
    if (modified >= now - gone_ms) continue;
    auto worker = name.substr(k_prefix.size(), name.size() - k_prefix.size() - k_suffix.size());
    if (auto beat = heartbeats.find(worker); beat != heartbeats.end() && beat->second >= now - gone_ms) continue;
    out.push_back({entry.path(), static_cast<std::uint64_t>(st.st_size), modified});
  }
  std::sort(out.begin(), out.end(), [](const Match& a, const Match& b) { return a.path < b.path; });
  return out;
}

}  // namespace oos::cleanup
