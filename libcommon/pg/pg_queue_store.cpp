#include "pg/pg_queue_store.hpp"

#include <fmt/format.h>

#include <set>

#include "pg/events.hpp"
#include "pg/queue_sql.hpp"
#include "pg/values.hpp"
#include "queue/task.hpp"

namespace oos::pg {

using queue::QueueCounts;
using queue::QueueStatus;

namespace {

// A queue or NULL, for the statements' "$n::text IS NULL OR queue = $n" (planned with the value: unnamed
// statements get a custom plan, so the condition folds away).
Param queue_param(const std::optional<std::string>& queue) {
  return queue;
}

// The counts of k_status_counts, per queue.
//
// What status costs here, unlike on SQLite (where triggers keep a count row per queue and status): each call walks
// the index entries of every pending task (the backlog), every running task, and every finished task that purge has
// not deleted yet (tasks_finished_by_queue; index-only while autovacuum keeps the visibility map current, else a
// heap visit per recently changed page). The finished tasks dominate: succeeded tasks are kept for
// queue.succeeded_retention. The figures measured are in docs/decisions.md ("PostgreSQL queue counts").
std::map<std::string, QueueCounts> read_counts(Connection& connection, const std::optional<std::string>& only,
                                               util::UnixMillis now) {
  const Result r = connection.exec_params(sql::k_status_counts, {param(now), queue_param(only)});
  std::map<std::string, QueueCounts> out;
  for (int i = 0; i < r.rows(); ++i) {
    auto status = queue::parse_task_status(r.text(i, 1));
    if (!status) continue;  // none: the table's CHECK admits no other status
    QueueCounts& c = out[std::string(r.text(i, 0))];
    const std::int64_t n = int_at(r, i, 2);
    switch (*status) {
      case queue::TaskStatus::pending:
        c.pending = n;
        c.runnable = int_at(r, i, 3);
        c.retrying = int_at(r, i, 4);
        c.oldest_runnable_since = opt_int_at(r, i, 5);
        break;
      case queue::TaskStatus::running: c.running = n; break;
      case queue::TaskStatus::succeeded: c.succeeded = n; break;
      case queue::TaskStatus::dead: c.dead = n; break;
      case queue::TaskStatus::cancelled: c.cancelled = n; break;
    }
  }
  return out;
}

// The run totals per queue: the sum of its queue_counters rows over minutes and shards (at most a day of minutes,
// up to 16 shards each; older minutes are folded into minute 0 by purge()).
std::map<std::string, queue::RunTotals> read_totals(Connection& connection, const std::optional<std::string>& only) {
  const Result r = connection.exec_params(
      "SELECT queue, sum(runs), sum(failures), sum(run_ms) FROM queue_counters "
      "WHERE $1::text IS NULL OR queue = $1::text GROUP BY queue",
      {queue_param(only)});
  std::map<std::string, queue::RunTotals> out;
  for (int i = 0; i < r.rows(); ++i)
    out[std::string(r.text(i, 0))] = {int_at(r, i, 1), int_at(r, i, 2), int_at(r, i, 3)};
  return out;
}

}  // namespace

// One statement decides whether the flag changes, so that two hosts pausing at once record one event: the upsert
// (or update) waits for the other's row lock and then re-checks its condition on the row the other committed.
bool PgQueueStore::set_paused(const std::string& queue, bool paused, util::UnixMillis now) {
  Transaction tx(m_connection);
  // Resuming a queue that has no row changes nothing (it is not paused), as on SQLite: no row is created.
  const Result changed =
      paused ? m_connection.exec_params(
                   "INSERT INTO queues (name, paused, updated_at) VALUES ($1, true, $2) ON CONFLICT (name) DO UPDATE "
                   "SET paused = true, updated_at = excluded.updated_at WHERE NOT queues.paused RETURNING 1",
                   {queue, param(now)})
             : m_connection.exec_params(
                   "UPDATE queues SET paused = false, updated_at = $2 WHERE name = $1 AND paused RETURNING 1",
                   {queue, param(now)});
  if (changed.rows() == 0) return false;  // the transaction rolls back: nothing was written
  record_event(m_connection, now, paused ? "queue.pause" : "queue.resume", "queue/" + queue, "by hand");
  tx.commit();
  m_logger.info(fmt::format("queue {} {}", queue, paused ? "paused" : "resumed"), {{"queue", queue}});
  return true;
}

bool PgQueueStore::exists(const std::string& queue) {
  if (m_config.queues.contains(queue)) return true;
  const Result r = m_connection.exec_params(
      "SELECT EXISTS (SELECT 1 FROM queues WHERE name = $1) "
      "OR EXISTS (SELECT 1 FROM breakers WHERE kind = 'queue' AND name = $1)",
      {queue});
  return r.text(0, 0) == "t";
}

std::vector<QueueStatus> PgQueueStore::statuses(const std::vector<std::string>& names,
                                                const std::optional<std::string>& only, util::UnixMillis now) {
  // One snapshot for every statement: the counts, totals, flags and breakers shown belong to one moment.
  Transaction tx(m_connection);
  m_connection.exec_params("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
  auto counts = read_counts(m_connection, only, now);
  auto totals = read_totals(m_connection, only);
  std::set<std::string> paused;
  {
    const Result r = m_connection.exec_params(
        "SELECT name FROM queues WHERE paused AND ($1::text IS NULL OR name = $1::text)", {queue_param(only)});
    for (int i = 0; i < r.rows(); ++i) paused.emplace(r.text(i, 0));
  }
  std::vector<QueueStatus> out;
  for (const auto& name : names) {
    QueueStatus s;
    s.name = name;
    if (auto c = counts.find(name); c != counts.end()) s.counts = c->second;
    if (auto t = totals.find(name); t != totals.end()) s.totals = t->second;
    s.paused = paused.contains(name);
    s.breaker = m_breakers.load("queue", name);
    s.alerts = queue::queue_alerts(s.counts, s.breaker, m_config.queue_settings(name));
    out.push_back(std::move(s));
  }
  tx.commit();
  return out;
}

std::vector<std::string> PgQueueStore::names() {
  std::set<std::string> names;
  for (const auto& [name, settings] : m_config.queues) names.insert(name);
  const Result r =
      m_connection.exec_params("SELECT name FROM queues UNION SELECT name FROM breakers WHERE kind = 'queue'");
  for (int i = 0; i < r.rows(); ++i) names.emplace(r.text(i, 0));
  return {names.begin(), names.end()};
}

std::vector<QueueStatus> PgQueueStore::status(util::UnixMillis now) {
  return statuses(names(), std::nullopt, now);
}

std::map<std::string, std::int64_t> PgQueueStore::dead_since(util::UnixMillis since) {
  const Result r = m_connection.exec_params(sql::k_dead_since, {param(since)});
  std::map<std::string, std::int64_t> out;
  for (int i = 0; i < r.rows(); ++i) out[std::string(r.text(i, 0))] = int_at(r, i, 1);
  return out;
}

std::optional<queue::QueueStats> PgQueueStore::stats(const std::string& queue, util::UnixMillis now) {
  if (!exists(queue)) return std::nullopt;
  queue::QueueStats stats;
  stats.status = statuses({queue}, queue, now).front();
  // The last 60 whole minutes plus the current one, every shard.
  const Result r = m_connection.exec_params(
      "SELECT coalesce(sum(runs), 0), coalesce(sum(failures), 0), coalesce(sum(run_ms), 0) FROM queue_counters "
      "WHERE queue = $1 AND minute >= $2",
      {queue, param(now / 60'000 - 60)});
  stats.runs_last_hour = int_at(r, 0, 0);
  stats.failures_last_hour = int_at(r, 0, 1);
  if (stats.runs_last_hour > 0)
    stats.mean_run_ms = static_cast<double>(int_at(r, 0, 2)) / static_cast<double>(stats.runs_last_hour);
  return stats;
}

queue::Activity PgQueueStore::activity(const std::optional<std::string>& queue, util::UnixMillis now) {
  constexpr std::int64_t k_minute = 60'000;
  constexpr std::int64_t k_minutes = 60;
  constexpr std::int64_t k_hours = 24;
  auto this_minute = now / k_minute;
  auto this_hour = this_minute / 60;
  auto first_hour = this_hour - (k_hours - 1);
  queue::Activity out;
  for (std::int64_t m = this_minute - (k_minutes - 1); m <= this_minute; ++m) out.minutes.push_back({m * k_minute});
  for (std::int64_t h = first_hour; h <= this_hour; ++h) out.hours.push_back({h * 60 * k_minute});
  // Minute rows summed over their shards (and over the queues when none is named).
  const Result r = m_connection.exec_params(
      "SELECT minute, sum(runs), sum(failures) FROM queue_counters WHERE ($1::text IS NULL OR queue = $1::text) "
      "AND minute >= $2 GROUP BY minute",
      {queue_param(queue), param(first_hour * 60)});
  for (int i = 0; i < r.rows(); ++i) {
    const std::int64_t minute = int_at(r, i, 0);
    const std::int64_t runs = int_at(r, i, 1);
    const std::int64_t failures = int_at(r, i, 2);
    if (auto m = minute - (this_minute - (k_minutes - 1)); m >= 0 && m < k_minutes) {
      out.minutes[static_cast<std::size_t>(m)].runs += runs;
      out.minutes[static_cast<std::size_t>(m)].failures += failures;
    }
    if (auto h = minute / 60 - first_hour; h >= 0 && h < k_hours) {
      out.hours[static_cast<std::size_t>(h)].runs += runs;
      out.hours[static_cast<std::size_t>(h)].failures += failures;
    }
  }
  return out;
}

}  // namespace oos::pg
