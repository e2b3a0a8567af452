// The queues' state as Prometheus metrics: what `oos-queue metrics` prints and what the workers write to
// <metrics.textfile_dir>/oos_queue.prom (docs/reference.md section 13). The periodic tools' last successes are not
// here: oos-backup, oos-integrity and oos-cleanup write them to their own files, and node_exporter rejects a
// series that two files expose.
#pragma once

#include <optional>
#include <vector>

#include "config.hpp"
#include "db/database.hpp"
#include "keys/key_ring_store.hpp"
#include "log.hpp"
#include "metrics/exposition.hpp"
#include "queue/queue_store.hpp"
#include "store/backend.hpp"
#include "store/event_log.hpp"
#include "util/time.hpp"

namespace oos::metrics {

// A key ring's stored keys, by fingerprint.
struct RingSnapshot {
  std::string ring;
  std::vector<keys::KeyState> keys;
};

// What the queue metrics are made of, read from the database at one moment.
struct QueueSnapshot {
  util::UnixMillis now = 0;
  std::vector<queue::QueueStatus> queues;         // every known queue, sorted by name
  std::vector<RingSnapshot> key_rings;            // every ring with stored keys (KeyRingStore::rings), by name
  std::optional<util::UnixMillis> last_recovery;  // newest integrity.recovered event
  std::optional<util::UnixMillis> last_restore;   // newest backup.restored event
};

// Reads the snapshot (queue counts, run totals, paused flags, breakers, events, key rings) through the store
// interfaces, on either backend. On PostgreSQL nothing records integrity.recovered or backup.restored (oos-integrity
// and oos-backup do not run there), so those two metrics are absent. The rings are those stored in the database,
// whatever the config of the reader (oos-api and oos-queue metrics need none).
QueueSnapshot read_queue_snapshot(queue::QueueStore& queues, store::EventLog& events, keys::KeyRingStore& key_rings,
                                  util::UnixMillis now);

// The exposition of `snapshot`; pure. Metrics (all gauges unless named _total):
//   oos_queue_tasks{queue,state}                  state: pending, running, succeeded, dead, cancelled
//   oos_queue_runnable_tasks{queue}               pending and due now
//   oos_queue_retrying_tasks{queue}               pending after at least one failed run
//   oos_queue_oldest_runnable_wait_seconds{queue} how long the longest-waiting runnable task has been due
//   oos_queue_dead_letter_tasks                   dead tasks of every queue
//   oos_queue_runs_total{queue,outcome}           counter; outcome: succeeded, failed
//   oos_queue_run_seconds_total{queue}            counter; time the runs took
//   oos_queue_paused{queue}                       1 paused, 0 not
//   oos_queue_breaker_state{queue}                0 closed, 1 half-open, 2 open
//   oos_queue_breaker_consecutive_failures{queue}
//   oos_database_last_recovery_timestamp_seconds, oos_database_last_restore_timestamp_seconds (when any)
//   oos_key_ring_key_available{ring,key}          key: the fingerprint; 1 handed out, 0 cooling down
//   oos_key_ring_key_cooldown_until_seconds{ring,key}  Unix time the cooldown ends (0: never cooled)
//   oos_key_ring_key_uses_today{ring,key}         runs handed the key on today's UTC day
//   oos_key_ring_key_last_used_timestamp_seconds{ring,key}  (keys handed out at least once)
Exposition queue_exposition(const QueueSnapshot& snapshot);

// read_queue_snapshot() then queue_exposition(), on the backend's stores.
Exposition queue_metrics(store::Backend& backend, util::UnixMillis now);

// The same on an SQLite database without a Backend (the unit tests).
Exposition queue_metrics(db::Database& db, const config::Config& config, log::Logger& logger, util::UnixMillis now);

}  // namespace oos::metrics
