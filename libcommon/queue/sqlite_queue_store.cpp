#include "queue/sqlite_queue_store.hpp"

#include <fmt/format.h>

#include <set>

#include "db/events.hpp"
#include "queue/task.hpp"

namespace oos::queue {
std::int64_t runnable_tasks(db::Database& db, std::span<const std::string> queues, util::UnixMillis now) {
  std::set<std::string> distinct(queues.begin(), queues.end());
  std::int64_t total = 0;
  for (const auto& queue : distinct) {
    auto q = db.query(
        "SELECT coalesce((SELECT n FROM queue_counts WHERE queue = ?1 AND status = 'pending'), 0) - "
        "(SELECT count(*) FROM tasks INDEXED BY tasks_pending_by_queue WHERE status = 'pending' AND queue = ?1 "
        "AND run_at > ?2)");
    q->bind(1, queue);
    q->bind(2, static_cast<std::int64_t>(now));
    q->executeStep();
    total += q->getColumn(0).getInt64();
  }
  return total;
}

bool SqliteQueueStore::set_paused(const std::string& queue, bool paused, util::UnixMillis now) {
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

bool SqliteQueueStore::exists(const std::string& queue) {
  if (m_config.queues.contains(queue)) return true;
  auto q = m_db.query(
      "SELECT EXISTS (SELECT 1 FROM queues WHERE name = ?1) "
      "OR EXISTS (SELECT 1 FROM breakers WHERE kind = 'queue' AND name = ?1)");
  q->bind(1, queue);
  return q->executeStep() && q->getColumn(0).getInt() != 0;
}

QueueStatus SqliteQueueStore::status_of(const std::string& queue, util::UnixMillis now) {
  QueueStatus s;
  s.name = queue;
  // Every query here reads a counter row or walks an index to its first entry or over the delayed tasks only:
  // none counts the queue's tasks (EXPLAIN QUERY PLAN and the VM step counts are checked by the unit tests).
  {
    // Tasks by status: kept by the schema's triggers on `tasks` (queue_counts), never counted row by row.
    auto q = m_db.query("SELECT status, n, retried FROM queue_counts WHERE queue = ?");
    q->bind(1, queue);
    while (q->executeStep()) {
      auto status = parse_task_status(q->getColumn(0).getString());
      if (!status) continue;  // none: the triggers copy `tasks.status`, whose CHECK admits no other
      auto n = q->getColumn(1).getInt64();
      switch (*status) {
        case TaskStatus::pending:
          s.counts.pending = n;
          s.counts.retrying = q->getColumn(2).getInt64();
          break;
        case TaskStatus::running: s.counts.running = n; break;
        case TaskStatus::succeeded: s.counts.succeeded = n; break;
        case TaskStatus::dead: s.counts.dead = n; break;
        case TaskStatus::cancelled: s.counts.cancelled = n; break;
      }
    }
  }
  {
    // The run totals: the sum of the queue's minute rows (at most a day of them; older ones are folded into
    // minute 0 by purge()).
    auto q = m_db.query("SELECT sum(runs), sum(failures), sum(run_ms) FROM queue_counters WHERE queue = ?");
    q->bind(1, queue);
    if (q->executeStep() && !q->getColumn(0).isNull())
      s.totals = {q->getColumn(0).getInt64(), q->getColumn(1).getInt64(), q->getColumn(2).getInt64()};
  }
  {
    // The oldest pending task: the first entry of the queue's pending index; runnable when it is due.
    auto q = m_db.query(
        "SELECT run_at FROM tasks INDEXED BY tasks_pending_by_queue WHERE status = 'pending' AND queue = ? "
        "ORDER BY run_at LIMIT 1");
    q->bind(1, queue);
    if (q->executeStep() && q->getColumn(0).getInt64() <= now)
      s.counts.oldest_runnable_since = q->getColumn(0).getInt64();
  }
  // Runnable: the pending tasks less the delayed ones (retries in backoff, tasks enqueued with a delay): a walk
  // over the delayed tasks only.
  s.counts.runnable = runnable_tasks(m_db, std::span(&queue, 1), now);
  {
    auto q = m_db.query("SELECT paused FROM queues WHERE name = ?");
    q->bind(1, queue);
    s.paused = q->executeStep() && q->getColumn(0).getInt() != 0;
  }
  s.breaker = m_breakers.load("queue", queue);
  s.alerts = queue_alerts(s.counts, s.breaker, m_config.queue_settings(queue));
  return s;
}

std::vector<std::string> SqliteQueueStore::names() {
  std::set<std::string> names;
  for (const auto& [name, settings] : m_config.queues) names.insert(name);
  auto q = m_db.query("SELECT name FROM queues UNION SELECT name FROM breakers WHERE kind = 'queue'");
  while (q->executeStep()) names.insert(q->getColumn(0).getString());
  return {names.begin(), names.end()};
}

std::vector<QueueStatus> SqliteQueueStore::status(util::UnixMillis now) {
  std::vector<QueueStatus> out;
  for (const auto& name : names()) out.push_back(status_of(name, now));
  return out;
}

std::map<std::string, std::int64_t> SqliteQueueStore::dead_since(util::UnixMillis since) {
  std::map<std::string, std::int64_t> out;
  auto q = m_db.query("SELECT queue, count(*) FROM tasks WHERE status = 'dead' AND finished_at >= ? GROUP BY queue");
  q->bind(1, static_cast<std::int64_t>(since));
  while (q->executeStep()) out[q->getColumn(0).getString()] = q->getColumn(1).getInt64();
  return out;
}

std::optional<QueueStats> SqliteQueueStore::stats(const std::string& queue, util::UnixMillis now) {
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

Activity SqliteQueueStore::activity(const std::optional<std::string>& queue, util::UnixMillis now) {
  constexpr std::int64_t k_minute = 60'000;
  constexpr std::int64_t k_minutes = 60;
  constexpr std::int64_t k_hours = 24;
  auto this_minute = now / k_minute;
  auto this_hour = this_minute / 60;
  auto first_hour = this_hour - (k_hours - 1);
  Activity out;
  for (std::int64_t m = this_minute - (k_minutes - 1); m <= this_minute; ++m) out.minutes.push_back({m * k_minute});
  for (std::int64_t h = first_hour; h <= this_hour; ++h) out.hours.push_back({h * 60 * k_minute});
  auto add = [&](std::int64_t minute, std::int64_t runs, std::int64_t failures) {
    if (auto i = minute - (this_minute - (k_minutes - 1)); i >= 0 && i < k_minutes) {
      out.minutes[static_cast<std::size_t>(i)].runs += runs;
      out.minutes[static_cast<std::size_t>(i)].failures += failures;
    }
    if (auto i = minute / 60 - first_hour; i >= 0 && i < k_hours) {
      out.hours[static_cast<std::size_t>(i)].runs += runs;
      out.hours[static_cast<std::size_t>(i)].failures += failures;
    }
  };
  auto since = first_hour * 60;
  if (queue) {
    auto q = m_db.query("SELECT minute, runs, failures FROM queue_counters WHERE queue = ? AND minute >= ?");
    q->bind(1, *queue);
    q->bind(2, since);
    while (q->executeStep()) add(q->getColumn(0).getInt64(), q->getColumn(1).getInt64(), q->getColumn(2).getInt64());
  } else {
    auto q =
        m_db.query("SELECT minute, sum(runs), sum(failures) FROM queue_counters WHERE minute >= ? GROUP BY minute");
    q->bind(1, since);
    while (q->executeStep()) add(q->getColumn(0).getInt64(), q->getColumn(1).getInt64(), q->getColumn(2).getInt64());
  }
  return out;
}

}  // namespace oos::queue
