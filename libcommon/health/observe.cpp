#include "health/observe.hpp"

#include <SQLiteCpp/Exception.h>
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "backup/backup.hpp"
#include "cleanup/cleanup.hpp"
#include "db/database.hpp"
#include "db/events.hpp"
#include "error.hpp"
#include "queue/queue_store.hpp"
#include "queue/sqlite_queue_store.hpp"
#include "queue/sqlite_task_store.hpp"
#include "queue/sqlite_worker_registry.hpp"
#include "search/ledger.hpp"
#include "util/process_usage.hpp"

namespace oos::health {
namespace {

namespace fs = std::filesystem;
using policy::Health;

void observe_backups(const Sources& s, policy::HealthInput& in) {
  in.backup_dir = s.backup_dir.string();
  in.backup_interval = s.config.backup.interval;
  // A backup gets its manifest only once it verified: the newest with a manifest is the last verified one.
  for (const auto& entry : backup::list_backups(s.backup_dir)) {
    if (!entry.has_manifest) continue;
    in.last_backup = entry.created;
    in.last_backup_name = entry.path.filename().string();
    break;
  }
}

void observe_disks(const Sources& s, policy::HealthInput& in) {
  in.disk_threshold_percent = s.config.cleanup.threshold_percent;
  std::vector<fs::path> paths{s.state_dir};
  if (fs::exists(s.backup_dir) && s.backup_dir != s.state_dir) paths.push_back(s.backup_dir);
  for (const auto& path : paths) {
    policy::DiskHealth disk{path.string(), std::nullopt, ""};
    if (auto usage = cleanup::disk_usage(path))
      disk.used_percent = usage->used_percent;
    else
      disk.problem = usage.error();
    in.disks.push_back(std::move(disk));
  }
}

// Whether process `pid` exists, when the row is of this host.
std::optional<bool> process_alive(const queue::WorkerRow& row, const std::string& this_host) {
  if (row.host != this_host) return std::nullopt;
  return util::read_process_stat(fs::path("/proc") / std::to_string(row.pid) / "stat").has_value();
}

void observe_database(const Sources& s, db::Database& db, log::Logger& logger, policy::HealthInput& in) {
  const auto& config = s.config;
  in.schema_version = db.schema_version();
  in.integrity_interval = config.integrity.interval;
  in.last_integrity_check = db::last_event_at(db, "integrity.ok");
  in.last_recovery = db::last_event_at(db, "integrity.recovered");

  queue::SqliteQueueStore queues(db, config, logger);
  auto dead_recent = queues.dead_since(s.now - policy::k_dead_recent.count());
  for (const auto& q : queues.status(s.now)) {
    policy::QueueHealth h;
    h.name = q.name;
    h.runnable = q.counts.runnable;
    h.depth_alert = config.queue_settings(q.name).depth_alert;
    h.dead = q.counts.dead;
    if (auto it = dead_recent.find(q.name); it != dead_recent.end()) h.dead_recent = it->second;
    h.paused = q.paused;
    h.breaker = q.breaker.state;
    h.breaker_opened_at = q.breaker.opened_at;
    in.queues.push_back(std::move(h));
  }
  util::SystemClock clock;
  in.runnable_for_workers = queue::SqliteTaskStore(db, config, clock, logger).runnable_count(config.worker.queues);

  auto host = util::host_name();
  for (const auto& row : queue::SqliteWorkerRegistry(db).list())
    in.workers.push_back({row.name, row.pid, row.heartbeat_at, process_alive(row, host)});

  in.configured_providers = config.search.providers;
  search::RateLimitStore ledgers(db);
  for (const auto& name : config.search.providers) {
    auto breaker = queues.breakers().load("search", name);
    auto daily_quota = config.search.provider.at(name).daily_quota;
    auto use = ledgers.today(name, daily_quota, s.now);
    if (!use.asked && breaker.state == policy::BreakerState::closed) continue;  // never used here
    in.providers.push_back({name, breaker.state, breaker.opened_at, use.used, daily_quota, use.spent, use.resets_at});
  }
}

}  // namespace

policy::HealthInput observe(const Sources& s, log::Logger& logger) {
  auto path = s.state_dir / "oos.db";
  // The database is read last, and what it gave is dropped with its problem: no verdict on half a read.
  auto files_only = [&] {
    policy::HealthInput in;
    in.now = s.now;
    in.database = path.string();
    observe_backups(s, in);
    observe_disks(s, in);
    return in;
  };
  auto in = files_only();

  if (!fs::exists(path)) {
    in.database_problem = fmt::format(
        "{} does not exist: check --state-dir and paths.state_dir; 'oos-backup restore --latest' "
        "brings back the newest backup",
        path.string());
    return in;
  }
  try {
    db::Database db({path, s.config.db.synchronous, s.config.db.busy_timeout, db::Access::read_only});
    observe_database(s, db, logger, in);
  } catch (const SQLite::Exception& e) {
    in = files_only();
    if (db::is_corruption(e)) {
      in.database_problem = fmt::format("{} is corrupt ({}): 'oos-integrity check' restores the newest verified backup",
                                        path.string(), e.what());
    } else {
      in.database_problem = db::translate(e, path).what();
      in.database_problem_status = Health::unknown;
    }
  } catch (const Error& e) {
    in = files_only();
    in.database_problem = fmt::format("cannot read {}: {}", path.string(), e.what());
    in.database_problem_status = Health::unknown;
  }
  return in;
}

}  // namespace oos::health
