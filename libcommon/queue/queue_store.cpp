#include "queue/queue_store.hpp"

#include <fmt/format.h>

#include <set>

#include "db/events.hpp"
#include "queue/task.hpp"

namespace oos::queue {
namespace {

void add_count(QueueCounts& counts, std::string_view status, std::int64_t n) {
  switch (parse_task_status(status).value_or(TaskStatus::pending)) {
    case TaskStatus::pending: counts.pending = n; break;
    case TaskStatus::running: counts.running = n; break;
    case TaskStatus::succeeded: counts.succeeded = n; break;
    case TaskStatus::dead: counts.dead = n; break;
    case TaskStatus::cancelled: counts.cancelled = n; break;
  }
}

}  // namespace

std::vector<std::string> queue_alerts(const QueueCounts& counts, const policy::BreakerRecord& breaker,
                                      const config::QueueSettings& settings) {
  std::vector<std::string> alerts;
  if (counts.runnable > settings.depth_alert)
    alerts.push_back(fmt::format("depth {} runnable tasks exceeds queue.depth_alert {}", counts.runnable,
                                 settings.depth_alert));
  if (breaker.state != policy::BreakerState::closed)
    alerts.push_back(fmt::format("breaker {} after {} consecutive failures", policy::to_string(breaker.state),
                                 breaker.consecutive_failures));
  return alerts;
}

bool QueueStore::set_paused(const std::string& queue, bool paused, util::UnixMillis now) {
  db::WriteTransaction tx(m_db);
  bool was = false;
  {
    auto q = m_db.query("SELECT paused FROM queues WHERE name = ?");
    q->bind(1, queue);
    was = q->executeStep() && q->getColumn(0).getInt() != 0;
  }
  if (was == paused) return false;
  auto q = m_db.query(
      "INSERT INTO queues (name, paused, updated_at) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (name) DO UPDATE SET paused = ?2, updated_at = ?3");
  q->bind(1, queue);
  q->bind(2, paused ? 1 : 0);
  q->bind(3, static_cast<std::int64_t>(now));
  q->exec();
  db::record_event(m_db, now, paused ? "queue.pause" : "queue.resume", "queue/" + queue, "by hand");
  tx.commit();
  m_logger.info(fmt::format("queue {} {}", queue, paused ? "paused" : "resumed"), {{"queue", queue}});
  return true;
}

bool QueueStore::exists(const std::string& queue) {
  if (m_config.queues.contains(queue)) return true;
  auto q = m_db.query(
      "SELECT EXISTS (SELECT 1 FROM tasks WHERE queue = ?1) OR EXISTS (SELECT 1 FROM queues WHERE name = ?1) "
      "OR EXISTS (SELECT 1 FROM breakers WHERE kind = 'queue' AND name = ?1)");
  q->bind(1, queue);
  return q->executeStep() && q->getColumn(0).getInt() != 0;
}

QueueStatus QueueStore::status_of(const std::string& queue, util::UnixMillis now) {
  QueueStatus s;
  s.name = queue;
  {
    auto q = m_db.query("SELECT status, count(*) FROM tasks WHERE queue = ? GROUP BY status");
    q->bind(1, queue);
    while (q->executeStep()) add_count(s.counts, q->getColumn(0).getText(), q->getColumn(1).getInt64());
  }
  {
    auto q = m_db.query(
        "SELECT count(*), min(run_at) FROM tasks WHERE queue = ?1 AND status = 'pending' "
        "AND run_at <= ?2");
    q->bind(1, queue);
    q->bind(2, static_cast<std::int64_t>(now));
    if (q->executeStep()) {
      s.counts.runnable = q->getColumn(0).getInt64();
      if (!q->getColumn(1).isNull()) s.counts.oldest_runnable_since = q->getColumn(1).getInt64();
    }
  }
  {
    auto q = m_db.query("SELECT count(*) FROM tasks WHERE queue = ? AND status = 'pending' AND attempts > 0");
    q->bind(1, queue);
    if (q->executeStep()) s.counts.retrying = q->getColumn(0).getInt64();
  }
  {
    auto q = m_db.query("SELECT paused FROM queues WHERE name = ?");
    q->bind(1, queue);
    s.paused = q->executeStep() && q->getColumn(0).getInt() != 0;
  }
  s.breaker = m_breakers.load("queue", queue);
  s.alerts = queue_alerts(s.counts, s.breaker, m_config.queue_settings(queue));
  return s;
}

std::vector<QueueStatus> QueueStore::status(util::UnixMillis now) {
  std::set<std::string> names;
  for (const auto& [name, settings] : m_config.queues) names.insert(name);
  {
    auto q = m_db.query(
        "SELECT DISTINCT queue FROM tasks UNION SELECT name FROM queues "
        "UNION SELECT name FROM breakers WHERE kind = 'queue'");
    while (q->executeStep()) names.insert(q->getColumn(0).getString());
  }
  std::vector<QueueStatus> out;
  for (const auto& name : names) out.push_back(status_of(name, now));
  return out;
}

std::optional<QueueStats> QueueStore::stats(const std::string& queue, util::UnixMillis now) {
  if (!exists(queue)) return std::nullopt;
  QueueStats stats;
  stats.status = status_of(queue, now);
  auto q = m_db.query(
      "SELECT count(*), sum(outcome != 'succeeded'), avg(ended_at - started_at) FROM task_attempts "
      "WHERE queue = ? AND ended_at >= ?");
  q->bind(1, queue);
  q->bind(2, static_cast<std::int64_t>(now - 3'600'000));
  if (q->executeStep()) {
    stats.runs_last_hour = q->getColumn(0).getInt64();
    stats.failures_last_hour = q->getColumn(1).isNull() ? 0 : q->getColumn(1).getInt64();
    if (!q->getColumn(2).isNull()) stats.mean_run_ms = q->getColumn(2).getDouble();
  }
  return stats;
}

}  // namespace oos::queue
