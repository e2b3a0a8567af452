// The `workers` table: one row per running worker, with its heartbeat. The worker's loop writes it every
// worker::k_heartbeat_interval and deletes it on a clean exit, so a row with an old heartbeat is a worker
// that died or hangs (what oos-health reports). An interface with two implementations: SqliteWorkerRegistry
// (queue/sqlite_worker_registry.hpp) and pg::PgWorkerRegistry (PostgreSQL).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dry_run.hpp"
#include "util/time.hpp"

namespace oos::queue {

struct WorkerRow {
  std::string name;  // the worker's name (its lease owner)
  std::int64_t pid = 0;
  std::string host;
  util::UnixMillis started_at = 0;
  util::UnixMillis heartbeat_at = 0;
  std::string status;  // the STATUS= line at the heartbeat
  std::int64_t tasks_run = 0;
};

// A task a worker holds now (a running task whose lease owner is the worker's name).
struct CurrentTask {
  std::int64_t id = 0;
  std::string queue;
  std::string type;
};

// How long the row of a worker that stopped beating stays for oos-health to report.
inline constexpr std::int64_t k_silent_worker_retention_ms = 24 * 60 * 60 * 1000;

class WorkerRegistry {
 public:
  virtual ~WorkerRegistry() = default;

  // Inserts or replaces the row of worker `name` (heartbeat_at = now), in a write transaction of its own.
  virtual void heartbeat(const std::string& name, std::int64_t pid, const std::string& host,
                         util::UnixMillis started_at, util::UnixMillis now, const std::string& status,
                         std::int64_t tasks_run) = 0;

  // Deletes the row of worker `name`, in a write transaction of its own; false when there was none.
  virtual bool remove(const std::string& name) = 0;

  // Deletes the rows whose heartbeat is older than `before` (workers that died and were not started again
  // under their name), in a write transaction of its own; with DryRun::yes only counts them. oos-cleanup calls
  // it with now - k_silent_worker_retention.
  virtual int remove_silent(util::UnixMillis before, DryRun dry_run) = 0;

  // Every row, by name.
  virtual std::vector<WorkerRow> list() = 0;

  // The running tasks by lease owner (a worker's name): what each worker is running now. Reads the running
  // tasks only (the tasks_running index).
  virtual std::map<std::string, CurrentTask> current_tasks() = 0;
};

}  // namespace oos::queue
