// One oos-cleanup run (docs/reference.md section 8.6): measure the filesystems of the state and backup directories;
// when one is above cleanup.threshold_percent (or forced) delete what the cleanup rules select; apply task
// retention, forget workers silent for over a day and delete their textfiles; log every action (cleanup/action_log).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "cleanup/cleanup.hpp"
#include "config.hpp"
#include "dry_run.hpp"
#include "log.hpp"
#include "queue/task_store.hpp"
#include "store/backend.hpp"
#include "util/time.hpp"

namespace oos::cleanup {

// What a run reads and writes: the disks and files are this host's; the tasks, the workers' rows and the events
// are the backend's (on PostgreSQL shared by every host, whose cleanups may run at the same time).
struct RunContext {
  store::Backend& backend;
  const config::Config& config;
  const util::Clock& clock;
  log::Logger& logger;
  std::filesystem::path state_dir;    // its filesystem is measured; cleanup_logs/ is there by default
  std::filesystem::path backup_dir;   // its filesystem is measured
  std::string event_object = "disk";  // of the cleanup.run event; app::host_object(HOST) on a shared database
};

enum class Force { no, yes };  // yes: apply the rules whatever the disk usage

struct RunReport {
  std::vector<DiskUsage> before;  // one per filesystem
  std::vector<DiskUsage> after;   // measured again when the rules applied
  bool rules_applied = false;
  std::int64_t files = 0;  // deleted by the rules (with a dry run: that would be)
  std::uint64_t bytes = 0;
  std::int64_t failed = 0;  // files that could not be deleted (each logged with its error)
  queue::PurgeResult purged;
  int silent_workers = 0;  // rows of the workers table removed
  int stale_textfiles =
      0;            // oos_worker_<name>.prom of workers gone for over a day deleted (see stale_worker_textfiles)
  int orphans = 0;  // temporary files of killed backup creates and restores removed (whatever the disk)
  std::filesystem::path log;
  std::string summary;  // one line: what was (or would be) deleted, purged and removed, and where the log is
};

// With DryRun::yes the same steps run and report the same numbers, and nothing is deleted, purged, removed or
// recorded as an event. Otherwise records a cleanup.run event. A file that cannot be deleted is counted in
// `failed` and logged as a warning; other failures throw oos::Error (74 for the disks and the log).
RunReport run(const RunContext& context, Force force, DryRun dry_run);

}  // namespace oos::cleanup
