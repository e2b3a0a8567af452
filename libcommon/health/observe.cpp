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
#include "keys/ring_status.hpp"
#include "queue/queue_store.hpp"
#include "search/search_store.hpp"
#include "store/sqlite_backend.hpp"
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

// On PostgreSQL the state directory holds no database, and nothing of OOS until a tool writes there (logs,
// metrics): its disk is judged once it exists.
void observe_shared_disks(const Sources& s, policy::HealthInput& in) {
  if (fs::exists(s.state_dir)) observe_disks(s, in);
}

// Whether process `pid` exists, when the row is of this host.
std::optional<bool> process_alive(const queue::WorkerRow& row, const std::string& this_host) {
  if (row.host != this_host) return std::nullopt;
  return util::read_process_stat(fs::path("/proc") / std::to_string(row.pid) / "stat").has_value();
}

// Each ring a handler names, with its stored keys by fingerprint (the keys themselves are never read here).
void observe_key_rings(const Sources& s, keys::KeyRingStore& store, policy::HealthInput& in) {
  for (auto& [ring, handlers] : keys::handlers_by_ring(s.config)) {
    policy::KeyRingHealth health{ring, std::move(handlers), {}};
    for (const auto& key : store.keys(ring))
      health.keys.push_back({key.fingerprint, key.cooldown_until, keys::uses_today(key, s.now), key.last_used_at});
    in.key_rings.push_back(std::move(health));
  }
}

// The queues, the workers, the search providers and the key rings, through the store interfaces: the same on SQLite and
// PostgreSQL.
void observe_stores(const Sources& s, store::Backend& backend, policy::HealthInput& in) {
  const auto& config = s.config;
  auto& queues = backend.queues();
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
  in.runnable_for_workers = backend.tasks().runnable_count(config.worker.queues);

  auto host = util::host_name();
  for (const auto& row : backend.workers().list())
    in.workers.push_back({row.name, row.pid, row.heartbeat_at, process_alive(row, host)});

  in.configured_providers = config.search.providers;
  auto& search = backend.search();
  for (const auto& name : config.search.providers) {
    auto breaker = search.breakers().load(search::k_breaker_kind, name);
    auto daily_quota = config.search.provider.at(name).daily_quota;
    auto use = search.ledger().today(name, daily_quota, s.now);
    if (!use.asked && breaker.state == policy::BreakerState::closed) continue;  // never used here
    in.providers.push_back({name, breaker.state, breaker.opened_at, use.used, daily_quota, use.spent, use.resets_at});
  }
  observe_key_rings(s, backend.key_rings(), in);
}

void observe_database(const Sources& s, db::Database& db, log::Logger& logger, policy::HealthInput& in) {
  const auto& config = s.config;
  in.schema_version = db.schema_version();
  in.integrity_interval = config.integrity.interval;
  in.last_integrity_check = db::last_event_at(db, "integrity.ok");
  in.last_recovery = db::last_event_at(db, "integrity.recovered");

  util::SystemClock clock;
  store::SqliteBackend backend(db, config, clock, logger);
  observe_stores(s, backend, in);
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

policy::HealthInput observe_shared(const Sources& s, store::Backend& backend, const util::Clock& clock) {
  const std::string server = backend.describe();
  policy::HealthInput in;
  in.now = s.now;
  in.on_postgresql = true;
  in.database = server;
  observe_shared_disks(s, in);
  try {
    auto reading = backend.read_server(s.config.db, clock);
    if (!reading) throw Error(ExitCode::software, server + " has no server to read: not a PostgreSQL backend");
    in.schema_version = reading->schema_version;
    in.postgres = std::move(reading->server);
    observe_stores(s, backend, in);
  } catch (const Error& e) {
    policy::HealthInput bare;
    bare.now = s.now;
    bare.on_postgresql = true;
    bare.database = server;
    bare.disks = std::move(in.disks);
    bare.database_problem = e.what();
    bare.database_problem_status = database_failure_status(e.code());
    return bare;
  }
  return in;
}

policy::HealthInput unreachable(const Sources& s, const std::string& problem, Health status) {
  policy::HealthInput in;
  in.now = s.now;
  in.on_postgresql = true;
  observe_shared_disks(s, in);
  in.database_problem = problem;
  in.database_problem_status = status;
  return in;
}

policy::Health database_failure_status(ExitCode code) {
  return code == ExitCode::unavailable || code == ExitCode::temp_fail ? Health::critical : Health::unknown;
}

}  // namespace oos::health
