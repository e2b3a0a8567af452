#include "pg/pg_worker_registry.hpp"

#include "pg/queue_sql.hpp"
#include "pg/values.hpp"

namespace oos::pg {

void PgWorkerRegistry::heartbeat(const std::string& name, std::int64_t pid, const std::string& host,
                                 util::UnixMillis started_at, util::UnixMillis now, const std::string& status,
                                 std::int64_t tasks_run) {
  m_connection.exec_params(
      "INSERT INTO workers (name, pid, host, started_at, heartbeat_at, status, tasks_run) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO UPDATE SET pid = excluded.pid, host = excluded.host, "
      "started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, status = excluded.status, "
      "tasks_run = excluded.tasks_run",
      {name, param(pid), host, param(started_at), param(now), status, param(tasks_run)});
}

bool PgWorkerRegistry::remove(const std::string& name) {
  return m_connection.exec_params("DELETE FROM workers WHERE name = $1", {name}).affected_rows() > 0;
}

int PgWorkerRegistry::remove_silent(util::UnixMillis before, DryRun dry_run) {
  if (dry_run == DryRun::yes)
    return static_cast<int>(int_at(
        m_connection.exec_params("SELECT count(*) FROM workers WHERE heartbeat_at < $1", {param(before)}), 0, 0));
  return static_cast<int>(
      m_connection.exec_params("DELETE FROM workers WHERE heartbeat_at < $1", {param(before)}).affected_rows());
}

std::vector<queue::WorkerRow> PgWorkerRegistry::list() {
  // COLLATE "C": byte order, as SQLite sorts, whatever the database's collation.
  const Result r = m_connection.exec_params(
      "SELECT name, pid, host, started_at, heartbeat_at, status, tasks_run FROM workers ORDER BY name COLLATE \"C\"");
  std::vector<queue::WorkerRow> rows;
  for (int i = 0; i < r.rows(); ++i) {
    queue::WorkerRow row;
    row.name = std::string(r.text(i, 0));
    row.pid = int_at(r, i, 1);
    row.host = std::string(r.text(i, 2));
    row.started_at = int_at(r, i, 3);
    row.heartbeat_at = int_at(r, i, 4);
    row.status = std::string(r.text(i, 5));
    row.tasks_run = int_at(r, i, 6);
    rows.push_back(std::move(row));
  }
  return rows;
}

std::map<std::string, queue::CurrentTask> PgWorkerRegistry::current_tasks() {
  const Result r = m_connection.exec_params(sql::k_current_tasks);
  std::map<std::string, queue::CurrentTask> out;
  for (int i = 0; i < r.rows(); ++i) {
    if (r.is_null(i, 0)) continue;
    out.try_emplace(std::string(r.text(i, 0)),
                    queue::CurrentTask{int_at(r, i, 1), std::string(r.text(i, 2)), std::string(r.text(i, 3))});
  }
  return out;
}

}  // namespace oos::pg
