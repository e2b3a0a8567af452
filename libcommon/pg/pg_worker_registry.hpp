// The worker registry on PostgreSQL: the `workers` table of pg/schema, with the semantics of
// queue::SqliteWorkerRegistry. The workers of every host sharing the database write this one table, and `name`
// stays its key as on SQLite: a worker's name is unique per host at least (the default is HOST:PID,
// tools/oos-worker/run.cpp; a name given with --name must be unique across the hosts, or their rows overwrite
// each other, as their leases would be confused). Each call is one statement, committed on its own.
#pragma once

#include "pg/connection.hpp"
#include "queue/worker_registry.hpp"

namespace oos::pg {

class PgWorkerRegistry final : public queue::WorkerRegistry {
 public:
  explicit PgWorkerRegistry(Connection& connection) : m_connection(connection) {}

  void heartbeat(const std::string& name, std::int64_t pid, const std::string& host, util::UnixMillis started_at,
                 util::UnixMillis now, const std::string& status, std::int64_t tasks_run) override;
  bool remove(const std::string& name) override;
  int remove_silent(util::UnixMillis before, DryRun dry_run) override;
  std::vector<queue::WorkerRow> list() override;
  std::map<std::string, queue::CurrentTask> current_tasks() override;

 private:
  Connection& m_connection;
};

}  // namespace oos::pg
