// Disk cleanup (docs/reference.md section 8.6): how full the filesystems are, and which files the
// configured rules select. The run that deletes them, applies task retention and logs is cleanup/run.hpp.
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "config.hpp"
#include "util/time.hpp"

namespace oos::cleanup {

struct DiskUsage {
  std::filesystem::path path;  // a directory on the filesystem measured
  std::uint64_t total_bytes = 0;
  std::uint64_t available_bytes = 0;  // to unprivileged users, as df shows
  double used_percent = 0;
};

// statvfs of `path`; the error names the path and the cause.
[[nodiscard]] std::expected<DiskUsage, std::string> disk_usage(const std::filesystem::path& path);

// Whether any filesystem is fuller than `threshold_percent`; pure.
bool over_threshold(const std::vector<DiskUsage>& usages, int threshold_percent);

struct Match {
  std::filesystem::path path;
  std::uint64_t size = 0;
  util::UnixMillis modified = 0;
};

// The files `rule` selects: regular files anywhere under rule.dir whose name matches rule.pattern (shell
// glob, fnmatch) and that were last modified more than rule.older_than before `now`. Symbolic links are
// never followed (a linked directory is not entered) and never selected. A missing dir selects nothing.
std::vector<Match> matching_files(const config::CleanupRule& rule, util::UnixMillis now);

// The textfiles oos_worker_<name>.prom in `dir` (metrics.textfile_dir) of workers gone for `gone_ms`: a running
// worker rewrites its file every worker.metrics_interval, so the file was last modified more than gone_ms before
// `now`, and the worker has not beaten either: `heartbeats` (name -> heartbeat_at, the workers table) holds no
// heartbeat of that name within gone_ms. Regular files only; a missing dir selects nothing.
std::vector<Match> stale_worker_textfiles(const std::filesystem::path& dir,
                                          const std::map<std::string, util::UnixMillis>& heartbeats,
                                          util::UnixMillis now, std::int64_t gone_ms);

}  // namespace oos::cleanup
