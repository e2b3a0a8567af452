#include "metrics/queue_metrics.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "keys/ring_status.hpp"
#include "keys/sqlite_key_ring_store.hpp"
#include "queue/sqlite_queue_store.hpp"
#include "store/sqlite_event_log.hpp"

namespace oos::metrics {
namespace {

using queue::QueueStatus;

double seconds(util::UnixMillis ms) {
  return static_cast<double>(ms) / 1000;
}

double breaker_value(policy::BreakerState state) {
  switch (state) {
    case policy::BreakerState::closed: return 0;
    case policy::BreakerState::half_open: return 1;
    case policy::BreakerState::open: return 2;
  }
  return 0;
}

// One gauge or counter with a sample per queue, labelled queue="NAME": the samples of a metric must follow
// each other, so metrics are added one at a time across the queues.
template <typename Value>
void per_queue(Exposition& out, const QueueSnapshot& snapshot, std::string_view name, Type type, std::string_view help,
               Value value) {
  for (const auto& q : snapshot.queues) out.add(name, type, help, value(q), {{"queue", q.name}});
}

// One gauge with a sample per stored key of every ring, labelled ring="NAME",key="FINGERPRINT"; keys for which
// `value` gives nothing are left out.
template <typename Value>
void per_key(Exposition& out, const QueueSnapshot& snapshot, std::string_view name, std::string_view help,
             Value value) {
  for (const auto& ring : snapshot.key_rings)
    for (const auto& key : ring.keys)
      if (std::optional<double> v = value(key))
        out.add(name, Type::gauge, help, *v, {{"ring", ring.ring}, {"key", key.fingerprint}});
}

void add_key_rings(Exposition& out, const QueueSnapshot& snapshot) {
  auto now = snapshot.now;
  per_key(out, snapshot, "oos_key_ring_key_available",
          "Whether the key (labelled by its fingerprint) is handed out (1) or cools down (0)",
          [&](const keys::KeyState& k) { return std::optional(k.cooldown_until > now ? 0.0 : 1.0); });
  per_key(out, snapshot, "oos_key_ring_key_cooldown_until_seconds",
          "When the key's cooldown ends (Unix time; 0 when it never cooled down, a past time once it is back)",
          [](const keys::KeyState& k) { return std::optional(seconds(k.cooldown_until)); });
  per_key(out, snapshot, "oos_key_ring_key_uses_today", "Runs handed the key on today's UTC day",
          [&](const keys::KeyState& k) { return std::optional(static_cast<double>(keys::uses_today(k, now))); });
  per_key(out, snapshot, "oos_key_ring_key_last_used_timestamp_seconds",
          "When the key was last handed to a run (Unix time)", [](const keys::KeyState& k) {
            return k.last_used_at ? std::optional(seconds(*k.last_used_at)) : std::nullopt;
          });
}

}  // namespace

QueueSnapshot read_queue_snapshot(queue::QueueStore& queues, store::EventLog& events, keys::KeyRingStore& key_rings,
                                  util::UnixMillis now) {
  QueueSnapshot snapshot{now,
                         queues.status(now),
                         {},
                         events.last_at("integrity.recovered", std::nullopt),
                         events.last_at("backup.restored", std::nullopt)};
  for (auto& ring : key_rings.rings()) {
    auto stored = key_rings.keys(ring);
    snapshot.key_rings.push_back({std::move(ring), std::move(stored)});
  }
  return snapshot;
}

Exposition queue_exposition(const QueueSnapshot& snapshot) {
  Exposition out;
  const char* tasks_help = "Tasks of the queue in each state (pending includes delayed tasks and retries not yet due)";
  for (const auto& q : snapshot.queues) {
    const auto& c = q.counts;
    for (auto [state, count] :
         {std::pair{"pending", c.pending}, std::pair{"running", c.running}, std::pair{"succeeded", c.succeeded},
          std::pair{"dead", c.dead}, std::pair{"cancelled", c.cancelled}})
      out.add("oos_queue_tasks", Type::gauge, tasks_help, static_cast<double>(count),
              {{"queue", q.name}, {"state", state}});
  }
  per_queue(out, snapshot, "oos_queue_runnable_tasks", Type::gauge,
            "Pending tasks that are due: what a worker may claim unless the queue is paused or its breaker open",
            [](const QueueStatus& q) { return static_cast<double>(q.counts.runnable); });
  per_queue(out, snapshot, "oos_queue_retrying_tasks", Type::gauge, "Pending tasks that have failed at least once",
            [](const QueueStatus& q) { return static_cast<double>(q.counts.retrying); });
  per_queue(out, snapshot, "oos_queue_oldest_runnable_wait_seconds", Type::gauge,
            "How long the longest-waiting runnable task has been due (0 when none is)", [&](const QueueStatus& q) {
              auto since = q.counts.oldest_runnable_since.value_or(snapshot.now);
              return seconds(std::max<util::UnixMillis>(0, snapshot.now - since));
            });
  std::int64_t dead = 0;
  for (const auto& q : snapshot.queues) dead += q.counts.dead;
  out.add("oos_queue_dead_letter_tasks", Type::gauge, "Dead tasks of every queue: the dead letter queue of oos-retry",
          static_cast<double>(dead));
  const char* runs_help =
      "Runs of the queue's tasks by outcome (failed: every run that did not succeed, timeouts and lost leases too)";
  for (const auto& q : snapshot.queues) {
    out.add("oos_queue_runs_total", Type::counter, runs_help, static_cast<double>(q.totals.runs - q.totals.failures),
            {{"queue", q.name}, {"outcome", "succeeded"}});
    out.add("oos_queue_runs_total", Type::counter, runs_help, static_cast<double>(q.totals.failures),
            {{"queue", q.name}, {"outcome", "failed"}});
  }
  per_queue(out, snapshot, "oos_queue_run_seconds_total", Type::counter, "Time the queue's runs took",
            [](const QueueStatus& q) { return seconds(q.totals.run_ms); });
  per_queue(out, snapshot, "oos_queue_paused", Type::gauge, "Whether the queue is paused (1) or not (0)",
            [](const QueueStatus& q) { return q.paused ? 1.0 : 0.0; });
  per_queue(out, snapshot, "oos_queue_breaker_state", Type::gauge,
            "The queue's circuit breaker: 0 closed, 1 half-open (a probe runs), 2 open",
            [](const QueueStatus& q) { return breaker_value(q.breaker.state); });
  per_queue(out, snapshot, "oos_queue_breaker_consecutive_failures", Type::gauge,
            "Failed runs in a row counted by the queue's breaker (it opens at breaker.failure_threshold)",
            [](const QueueStatus& q) { return static_cast<double>(q.breaker.consecutive_failures); });
  if (snapshot.last_recovery)
    out.add("oos_database_last_recovery_timestamp_seconds", Type::gauge,
            "When oos-integrity last replaced a corrupt database with a backup (Unix time)",
            seconds(*snapshot.last_recovery));
  if (snapshot.last_restore)
    out.add("oos_database_last_restore_timestamp_seconds", Type::gauge,
            "When a backup was last restored by hand with oos-backup restore (Unix time)",
            seconds(*snapshot.last_restore));
  add_key_rings(out, snapshot);
  return out;
}

Exposition queue_metrics(store::Backend& backend, util::UnixMillis now) {
  return queue_exposition(read_queue_snapshot(backend.queues(), backend.events(), backend.key_rings(), now));
}

Exposition queue_metrics(db::Database& db, const config::Config& config, log::Logger& logger, util::UnixMillis now) {
  queue::SqliteQueueStore queues(db, config, logger);
  store::SqliteEventLog events(db);
  keys::SqliteKeyRingStore key_rings(db);
  return queue_exposition(read_queue_snapshot(queues, events, key_rings, now));
}

}  // namespace oos::metrics
