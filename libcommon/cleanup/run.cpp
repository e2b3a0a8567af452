#include "cleanup/run.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <map>

#include "backup/backup.hpp"
#include "cleanup/action_log.hpp"
#include "error.hpp"
#include "util/duration.hpp"

namespace oos::cleanup {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The usage of each filesystem that holds one of `dirs` (once per filesystem; a missing directory is skipped),
// each logged.
std::vector<DiskUsage> measure(const std::vector<fs::path>& dirs, ActionLog& log, util::UnixMillis now) {
  std::vector<DiskUsage> usages;
  std::vector<dev_t> seen;
  for (const auto& dir : dirs) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) continue;
    if (std::ranges::find(seen, st.st_dev) != seen.end()) continue;
    seen.push_back(st.st_dev);
    auto usage = disk_usage(dir);
    if (!usage) throw Error(ExitCode::io_error, "disk usage: " + usage.error());
    log.write({{"action", "measure"},
               {"path", dir.string()},
               {"used_percent", usage->used_percent},
               {"available_bytes", usage->available_bytes}},
              now);
    usages.push_back(*usage);
  }
  return usages;
}

// Deletes `match` (unless a dry run) and logs it under `rule`; false, with a warning and the error in the log,
// when it cannot be deleted.
bool delete_logged(const Match& match, const std::string& rule, const RunContext& context, util::UnixMillis now,
                   DryRun dry_run, ActionLog& log) {
  std::string error;
  if (dry_run == DryRun::no && ::unlink(match.path.c_str()) != 0) error = std::strerror(errno);
  json entry{{"action", "delete"},
             {"path", match.path.string()},
             {"size", match.size},
             {"modified", util::format_iso8601(match.modified)},
             {"rule", rule}};
  if (!error.empty()) {
    entry["error"] = error;
    context.logger.warn(fmt::format("cleanup: cannot delete '{}': {}", match.path.string(), error));
  }
  log.write(entry, now);
  return error.empty();
}

// Deletes (unless a dry run) what `rule` selects, logging each file; adds to the report's counts.
void apply_rule(const config::CleanupRule& rule, const RunContext& context, util::UnixMillis now, DryRun dry_run,
                ActionLog& log, RunReport& report) {
  auto name = fmt::format("{} {} older than {}", rule.dir, rule.pattern, util::format_duration(rule.older_than));
  for (const auto& match : matching_files(rule, now)) {
    if (!delete_logged(match, name, context, now, dry_run, log)) {
      ++report.failed;
      continue;
    }
    ++report.files;
    report.bytes += match.size;
  }
}

std::string summary(const RunReport& r, int threshold_percent, DryRun dry_run) {
  bool dry = dry_run == DryRun::yes;
  return fmt::format(
      "{}{} files ({:.1f} MiB) {}by the rules{}, {} dead and {} succeeded tasks past retention {}{}{}{}; actions in {}",
      dry ? "dry run: " : "", r.files, static_cast<double>(r.bytes) / (1 << 20), dry ? "would be deleted " : "deleted ",
      r.rules_applied ? "" : fmt::format(" (disk below {}%: rules not applied)", threshold_percent), r.purged.dead,
      r.purged.succeeded, dry ? "would be purged" : "purged",
      r.silent_workers ? fmt::format(", {} rows of workers silent for over a day {}", r.silent_workers,
                                     dry ? "would be removed" : "removed")
                       : "",
      r.stale_textfiles ? fmt::format(", {} textfiles of workers gone for over a day {}", r.stale_textfiles,
                                      dry ? "would be deleted" : "deleted")
                        : "",
      r.orphans ? fmt::format(", {} orphaned temporary files of killed backups {}", r.orphans,
                              dry ? "would be removed" : "removed")
                : "",
      r.log.string());
}

}  // namespace

RunReport run(const RunContext& context, Force force, DryRun dry_run) {
  const auto& settings = context.config.cleanup;
  auto now = context.clock.now();
  auto log_dir = settings.log_dir.empty() ? context.state_dir / "cleanup_logs" : fs::path(settings.log_dir);
  ActionLog log(log_dir, now, dry_run);
  std::vector<fs::path> dirs{context.state_dir, context.backup_dir};

  RunReport report;
  report.log = log.path();
  report.before = measure(dirs, log, now);
  report.rules_applied = force == Force::yes || over_threshold(report.before, settings.threshold_percent);
  if (report.rules_applied)
    for (const auto& rule : settings.rules) apply_rule(rule, context, now, dry_run, log, report);
  report.after = report.rules_applied ? measure(dirs, log, now) : report.before;
  // Creates leave theirs in the backup directory, restores beside the database.
  auto orphans = backup::remove_orphaned_temporaries(context.backup_dir, dry_run);
  std::ranges::copy(backup::remove_orphaned_temporaries(context.state_dir, dry_run), std::back_inserter(orphans));
  for (const auto& file : orphans) {
    log.write({{"action", "delete"}, {"path", file.string()}, {"rule", "orphaned temporary file of a killed backup"}},
              now);
    context.logger.warn("cleanup: " + backup::orphan_warning(file, dry_run));
    ++report.orphans;
  }

  if (const auto& metrics_dir = context.config.metrics.textfile_dir; !metrics_dir.empty()) {
    std::map<std::string, util::UnixMillis> heartbeats;
    for (const auto& row : context.backend.workers().list()) heartbeats[row.name] = row.heartbeat_at;
    for (const auto& stale :
         stale_worker_textfiles(metrics_dir, heartbeats, now, queue::k_silent_worker_retention_ms)) {
      if (delete_logged(stale, "textfile of a worker gone for over a day", context, now, dry_run, log))
        ++report.stale_textfiles;
      else
        ++report.failed;
    }
  }

  // On PostgreSQL the purge deletes in batches of its own transactions, skipping rows other transactions hold
  // (PgTaskStore::purge): a cleanup never makes the workers of any host wait on it for long.
  queue::PurgeOptions purge;
  purge.dry_run = dry_run;
  report.purged = context.backend.tasks().purge(purge);
  report.silent_workers = context.backend.workers().remove_silent(now - queue::k_silent_worker_retention_ms, dry_run);
  log.write({{"action", "retention"},
             {"dead_tasks", report.purged.dead},
             {"succeeded_tasks", report.purged.succeeded},
             {"silent_workers", report.silent_workers}},
            now);

  report.summary = summary(report, settings.threshold_percent, dry_run);
  if (dry_run == DryRun::no) context.backend.events().record(now, "cleanup.run", context.event_object, report.summary);
  context.logger.info(report.summary);
  return report;
}

}  // namespace oos::cleanup
