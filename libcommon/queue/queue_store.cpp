#include "queue/queue_store.hpp"

#include <fmt/format.h>

#include <set>

#include "db/events.hpp"
#include "queue/task.hpp"

namespace oos::queue {
std::vector<std::string> queue_alerts(const QueueCounts& counts, const policy::BreakerRecord& breaker,
                                      const config::QueueSettings& settings) {
  std::vector<std::string> alerts;
  if (counts.runnable > settings.depth_alert)
    alerts.push_back(
        fmt::format("depth {} runnable tasks exceeds queue.depth_alert {}", counts.runnable, settings.depth_alert));
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

Error unknown_queue(const std::string& name) {
  return Error(ExitCode::no_input,
               fmt::format("queue '{}' not found: it has no tasks and no [queues.{}] settings", name, name));
}

void QueueStore::require_known(const std::string& queue) {
  if (!exists(queue)) throw unknown_queue(queue);
}

bool QueueStore::exists(const std::string& queue) {
  if (m_config.queues.contains(queue)) return true;
  auto q = m_db.query(
      "SELECT EXISTS (SELECT 1 FROM queues WHERE name = ?1) "
      "OR EXISTS (SELECT 1 FROM breakers WHERE kind = 'queue' AND name = ?1)");
  q->bind(1, queue);
  return q->executeStep() && q->getColumn(0).getInt() != 0;
}

QueueStatus QueueStore::status_of(const std::string& queue, util::UnixMillis now) {
  QueueStatus s;
  s.name = queue;
  {
    // Finished tasks: kept as counters in the minute-0 row by the schema's triggers, never counted row by row.
    // The run totals: the sum of the queue's rows (old minutes are folded into minute 0 by purge()).
    auto q = m_db.query(
        "SELECT sum(succeeded), sum(dead), sum(cancelled), sum(runs), sum(failures), sum(run_ms) FROM queue_counters "
        "WHERE queue = ?");
    q->bind(1, queue);
    if (q->executeStep() && !q->getColumn(0).isNull()) {
      s.counts.succeeded = q->getColumn(0).getInt64();
      s.counts.dead = q->getColumn(1).getInt64();
      s.counts.cancelled = q->getColumn(2).getInt64();
      s.totals = {q->getColumn(3).getInt64(), q->getColumn(4).getInt64(), q->getColumn(5).getInt64()};
    }
  }
  {
    // Pending tasks: one pass over the claim index, which covers queue, run_at and attempts.
    auto q = m_db.query(
        "SELECT count(*), coalesce(sum(run_at <= ?2), 0), min(CASE WHEN run_at <= ?2 THEN run_at END), "
        "coalesce(sum(attempts > 0), 0) FROM tasks INDEXED BY tasks_claim WHERE status = 'pending' AND queue = ?1");
    q->bind(1, queue);
    q->bind(2, static_cast<std::int64_t>(now));
    if (q->executeStep()) {
      s.counts.pending = q->getColumn(0).getInt64();
      s.counts.runnable = q->getColumn(1).getInt64();
      if (!q->getColumn(2).isNull()) s.counts.oldest_runnable_since = q->getColumn(2).getInt64();
      s.counts.retrying = q->getColumn(3).getInt64();
    }
  }
  {
    auto q = m_db.query("SELECT count(*) FROM tasks INDEXED BY tasks_running WHERE status = 'running' AND queue = ?");
    q->bind(1, queue);
    if (q->executeStep()) s.counts.running = q->getColumn(0).getInt64();
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
    auto q = m_db.query("SELECT name FROM queues UNION SELECT name FROM breakers WHERE kind = 'queue'");
    while (q->executeStep()) names.insert(q->getColumn(0).getString());
  }
  std::vector<QueueStatus> out;
  for (const auto& name : names) out.push_back(status_of(name, now));
  return out;
}

std::map<std::string, std::int64_t> QueueStore::dead_since(util::UnixMillis since) {
  std::map<std::string, std::int64_t> out;
  auto q = m_db.query("SELECT queue, count(*) FROM tasks WHERE status = 'dead' AND finished_at >= ? GROUP BY queue");
  q->bind(1, static_cast<std::int64_t>(since));
  while (q->executeStep()) out[q->getColumn(0).getString()] = q->getColumn(1).getInt64();
  return out;
}

std::optional<QueueStats> QueueStore::stats(const std::string& queue, util::UnixMillis now) {
  if (!exists(queue)) return std::nullopt;
  QueueStats stats;
  stats.status = status_of(queue, now);
  // The last 60 whole minutes plus the current one.
  auto q = m_db.query(
      "SELECT coalesce(sum(runs), 0), coalesce(sum(failures), 0), coalesce(sum(run_ms), 0) FROM queue_counters "
      "WHERE queue = ? AND minute >= ?");
  q->bind(1, queue);
  q->bind(2, static_cast<std::int64_t>(now / 60'000 - 60));
  if (q->executeStep()) {
    stats.runs_last_hour = q->getColumn(0).getInt64();
    stats.failures_last_hour = q->getColumn(1).getInt64();
    if (stats.runs_last_hour > 0)
      stats.mean_run_ms = static_cast<double>(q->getColumn(2).getInt64()) / static_cast<double>(stats.runs_last_hour);
  }
  return stats;
}

}  // namespace oos::queue
