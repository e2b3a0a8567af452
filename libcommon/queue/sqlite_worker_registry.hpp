// The worker registry on SQLite: the `workers` table of the state directory's oos.db.
#pragma once

#include "db/database.hpp"
#include "queue/worker_registry.hpp"

namespace oos::queue {

class SqliteWorkerRegistry final : public WorkerRegistry {
 public:
  explicit SqliteWorkerRegistry(db::Database& db) : m_db(db) {}

  void heartbeat(const std::string& name, std::int64_t pid, const std::string& host, util::UnixMillis started_at,
                 util::UnixMillis now, const std::string& status, std::int64_t tasks_run) override;
  bool remove(const std::string& name) override;
  int remove_silent(util::UnixMillis before, DryRun dry_run) override;
  std::vector<WorkerRow> list() override;
  std::map<std::string, CurrentTask> current_tasks() override;

 private:
  db::Database& m_db;
};

}  // namespace oos::queue
