#include "commands.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/job.hpp"
#include "app/output.hpp"
#include "cleanup/cleanup.hpp"
#include "db/events.hpp"
#include "error.hpp"
#include "queue/task_store.hpp"
#include "queue/worker_registry.hpp"
#include "util/files.hpp"

namespace oos::tools::cleanup {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Appends JSON lines to today's action log.
class ActionLog {
 public:
  ActionLog(const fs::path& dir, util::UnixMillis now, bool dry_run) : m_dry_run(dry_run) {
    if (auto made = util::ensure_directory(dir); !made) throw Error(ExitCode::io_error, "cleanup log: " + made.error());
    m_path = dir / ("cleanup-" + util::format_iso8601(now).substr(0, 10) + ".jsonl");
    m_out.open(m_path, std::ios::app);
    if (!m_out)
      throw Error(ExitCode::io_error,
                  "cleanup log '" + m_path.string() + "': cannot open for appending: " + std::strerror(errno));
  }
  void write(json entry, util::UnixMillis now) {
    entry["time"] = util::format_iso8601(now);
    entry["dry_run"] = m_dry_run;
    m_out << app::dump(entry) << '\n';
    m_out.flush();
  }
  const fs::path& path() const { return m_path; }

 private:
  bool m_dry_run;
  fs::path m_path;
  std::ofstream m_out;
};

std::vector<oos::cleanup::DiskUsage> measure(const std::vector<fs::path>& dirs, ActionLog& log, util::UnixMillis now) {
  std::vector<oos::cleanup::DiskUsage> usages;
  std::vector<dev_t> seen;
  for (const auto& dir : dirs) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) continue;
    if (std::find(seen.begin(), seen.end(), st.st_dev) != seen.end()) continue;  // same filesystem
    seen.push_back(st.st_dev);
    auto usage = oos::cleanup::disk_usage(dir);
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

json usage_json(const std::vector<oos::cleanup::DiskUsage>& usages) {
  json out = json::array();
  for (const auto& u : usages)
    out.push_back(
        {{"path", u.path.string()}, {"used_percent", u.used_percent}, {"available_bytes", u.available_bytes}});
  return out;
}

}  // namespace

int clean(const Command& c, app::Context& context, db::Database& db, metrics::Exposition& metrics) {
  const auto& settings = context.config.cleanup;
  auto now = context.clock.now();
  auto log_dir = settings.log_dir.empty() ? context.state_dir / "cleanup_logs" : fs::path(settings.log_dir);
  bool dry_run = c.dry_run == DryRun::yes;
  ActionLog log(log_dir, now, dry_run);
  std::vector<fs::path> dirs{context.state_dir, context.backup_dir()};

  auto before = measure(dirs, log, now);
  bool apply = c.force || oos::cleanup::over_threshold(before, settings.threshold_percent);
  std::int64_t files = 0, failed = 0;
  std::uint64_t bytes = 0;
  if (apply) {
    for (std::size_t i = 0; i < settings.rules.size(); ++i) {
      const auto& rule = settings.rules[i];
      for (const auto& match : oos::cleanup::matching_files(rule, now)) {
        std::string error;
        if (!dry_run && ::unlink(match.path.c_str()) != 0) error = std::strerror(errno);
        json entry{{"action", "delete"},
                   {"path", match.path.string()},
                   {"size", match.size},
                   {"modified", util::format_iso8601(match.modified)},
                   {"rule", fmt::format("{} {} older than {}", rule.dir, rule.pattern,
                                        util::format_duration(rule.older_than))}};
        if (!error.empty()) {
          entry["error"] = error;
          ++failed;
          context.logger->warn(fmt::format("cleanup: cannot delete '{}': {}", match.path.string(), error));
        } else {
          ++files;
          bytes += match.size;
        }
        log.write(entry, now);
      }
    }
  }
  auto after = apply ? measure(dirs, log, now) : before;

  queue::TaskStore store(db, context.config, context.clock, *context.logger);
  queue::PurgeOptions purge;
  purge.dry_run = c.dry_run;
  auto purged = store.purge(purge);
  auto forgotten = queue::WorkerRegistry(db).remove_silent(now - queue::k_silent_worker_retention_ms, c.dry_run);
  log.write({{"action", "retention"},
             {"dead_tasks", purged.dead},
             {"succeeded_tasks", purged.succeeded},
             {"silent_workers", forgotten}},
            now);

  auto summary = fmt::format(
      "{}{} files ({:.1f} MiB) {}by the rules{}, {} dead and {} succeeded tasks past retention {}{}; actions in {}",
      dry_run ? "dry run: " : "", files, static_cast<double>(bytes) / (1 << 20),
      dry_run ? "would be deleted " : "deleted ",
      apply ? "" : fmt::format(" (disk below {}%: rules not applied)", settings.threshold_percent), purged.dead,
      purged.succeeded, dry_run ? "would be purged" : "purged",
      forgotten ? fmt::format(", {} rows of workers silent for over a day {}", forgotten,
                              dry_run ? "would be removed" : "removed")
                : "",
      log.path().string());
  if (!dry_run) db::record_event_alone(db, now, "cleanup.run", "disk", summary);
  for (const auto& usage : after)
    metrics.add("oos_cleanup_disk_used_ratio", metrics::Type::gauge, "Used fraction of the filesystem",
                usage.used_percent / 100, {{"path", usage.path.string()}});
  metrics
      .add("oos_cleanup_last_deleted_files", metrics::Type::gauge, "Files the last run deleted by the rules",
           static_cast<double>(files))
      .add("oos_cleanup_last_deleted_bytes", metrics::Type::gauge, "Bytes the last run deleted by the rules",
           static_cast<double>(bytes))
      .add("oos_cleanup_last_purged_tasks", metrics::Type::gauge, "Tasks the last run purged by retention",
           static_cast<double>(purged.dead), {{"state", "dead"}})
      .add("oos_cleanup_last_purged_tasks", metrics::Type::gauge, "Tasks the last run purged by retention",
           static_cast<double>(purged.succeeded), {{"state", "succeeded"}});
  context.logger->info(summary);
  if (c.json)
    std::cout << app::dump(json{{"dry_run", dry_run},
                                {"rules_applied", apply},
                                {"before", usage_json(before)},
                                {"after", usage_json(after)},
                                {"files", files},
                                {"bytes", bytes},
                                {"failed", failed},
                                {"dead_tasks", purged.dead},
                                {"succeeded_tasks", purged.succeeded},
                                {"silent_workers", forgotten},
                                {"log", log.path().string()}})
              << '\n';
  else
    std::cout << summary << '\n';
  return failed > 0 ? 1 : 0;
}

int run(const Command& c, app::Context& context, db::Database& db) {
  if (c.dry_run == DryRun::yes) {  // not a run: no event, no metrics
    metrics::Exposition unused;
    return clean(c, context, db, unused);
  }
  return app::run_job(context, {"cleanup", "cleanup.run"},
                      [&](metrics::Exposition& metrics) { return clean(c, context, db, metrics); });
}

}  // namespace oos::tools::cleanup
