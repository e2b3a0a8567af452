#include "queue/sqlite_worker_registry.hpp"

namespace oos::queue {

void SqliteWorkerRegistry::heartbeat(const std::string& name, std::int64_t pid, const std::string& host,
                                     util::UnixMillis started_at, util::UnixMillis now, const std::string& status,
                                     std::int64_t tasks_run) {
  db::WriteTransaction tx(m_db);
  {
    auto q = m_db.query(
        "INSERT INTO workers (name, pid, host, started_at, heartbeat_at, status, tasks_run) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
        "ON CONFLICT (name) DO UPDATE SET pid = ?2, host = ?3, started_at = ?4, heartbeat_at = ?5, status = ?6, "
        "tasks_run = ?7");
    q->bind(1, name);
    q->bind(2, pid);
    q->bind(3, host);
    q->bind(4, static_cast<std::int64_t>(started_at));
    q->bind(5, static_cast<std::int64_t>(now));
    q->bind(6, status);
    q->bind(7, tasks_run);
    q->exec();
  }
  tx.commit();
}

bool SqliteWorkerRegistry::remove(const std::string& name) {
  db::WriteTransaction tx(m_db);
  int deleted = 0;
  {
    auto q = m_db.query("DELETE FROM workers WHERE name = ?");
    q->bind(1, name);
    deleted = q->exec();
  }
  tx.commit();
  return deleted > 0;
}

int SqliteWorkerRegistry::remove_silent(util::UnixMillis before, DryRun dry_run) {
  db::WriteTransaction tx(m_db);
  int count = 0;
  if (dry_run == DryRun::yes) {
    auto q = m_db.query("SELECT count(*) FROM workers WHERE heartbeat_at < ?");
    q->bind(1, static_cast<std::int64_t>(before));
    count = q->executeStep() ? q->getColumn(0).getInt() : 0;
  } else {
    auto q = m_db.query("DELETE FROM workers WHERE heartbeat_at < ?");
    q->bind(1, static_cast<std::int64_t>(before));
    count = q->exec();
  }
  tx.commit();
  return count;
}

std::vector<WorkerRow> SqliteWorkerRegistry::list() {
  auto q = m_db.query("SELECT name, pid, host, started_at, heartbeat_at, status, tasks_run FROM workers ORDER BY name");
  std::vector<WorkerRow> rows;
  while (q->executeStep()) {
    WorkerRow row;
    row.name = q->getColumn(0).getString();
    row.pid = q->getColumn(1).getInt64();
    row.host = q->getColumn(2).getString();
    row.started_at = q->getColumn(3).getInt64();
    row.heartbeat_at = q->getColumn(4).getInt64();
    row.status = q->getColumn(5).getString();
    row.tasks_run = q->getColumn(6).getInt64();
    rows.push_back(std::move(row));
  }
  return rows;
}

std::map<std::string, CurrentTask> SqliteWorkerRegistry::current_tasks() {
  // INDEXED BY: for ORDER BY id the planner would rather walk every task in rowid order than sort the few running.
  auto q = m_db.query(
      "SELECT lease_owner, id, queue, type FROM tasks INDEXED BY tasks_running WHERE status = 'running' ORDER BY id");
  std::map<std::string, CurrentTask> out;
  while (q->executeStep()) {
    if (q->getColumn(0).isNull()) continue;
    out.try_emplace(q->getColumn(0).getString(),
                    CurrentTask{q->getColumn(1).getInt64(), q->getColumn(2).getString(), q->getColumn(3).getString()});
  }
  return out;
}

}  // namespace oos::queue
