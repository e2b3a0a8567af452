// The verdicts of oos-health (docs/reference.md section 16) as a pure function of what it observed: one check per
// object (the database, its integrity, the backups, each disk, each queue, the workers, each search
// provider), each OK, WARNING, CRITICAL or UNKNOWN with a one-line message that says what to do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/breaker.hpp"
#include "util/duration.hpp"
#include "util/time.hpp"

namespace oos::policy {

// Nagios plugin states; the values are the exit codes.
enum class Health { ok = 0, warning = 1, critical = 2, unknown = 3 };

// "OK", "WARNING", "CRITICAL", "UNKNOWN".
std::string_view to_string(Health health);

struct HealthCheck {
  std::string name;  // "database", "backup", "queue default", "disk /var/lib/oos", ...
  Health status = Health::ok;
  std::string message;
};

struct QueueHealth {
  std::string name;
  std::int64_t runnable = 0;
  std::int64_t depth_alert = 1000;  // queue.depth_alert of this queue
  std::int64_t dead = 0;
  std::int64_t dead_recent = 0;  // dead-lettered within k_dead_recent and still dead
  bool paused = false;
  BreakerState breaker = BreakerState::closed;
  util::UnixMillis breaker_opened_at = 0;
};

struct WorkerHealth {
  std::string name;
  std::int64_t pid = 0;
  util::UnixMillis heartbeat_at = 0;
  std::optional<bool> alive;  // whether the process still exists; nullopt when it cannot be told (other host)
};

struct ProviderHealth {
  std::string name;
  BreakerState breaker = BreakerState::closed;
  util::UnixMillis breaker_opened_at = 0;
  std::int64_t used = 0;         // today's requests
  std::int64_t daily_quota = 0;  // 0: unlimited
  bool spent = false;            // used up, or the provider said so
  util::UnixMillis resets_at = 0;
};

// One key of a key ring as stored (docs/reference.md section 6, key rings): by fingerprint, never the key.
struct RingKeyHealth {
  std::string fingerprint;
  util::UnixMillis cooldown_until = 0;           // cooling down while later than now
  std::int64_t uses_today = 0;                   // handed out on today's UTC day
  std::optional<util::UnixMillis> last_used_at;  // none: never handed out
};

// A key ring a configured handler names, with its stored keys (none before the first run that took a key).
struct KeyRingHealth {
  std::string name;
  std::vector<std::string> handlers;  // the types of the handlers that name it
  std::vector<RingKeyHealth> keys;    // by fingerprint
};

struct DiskHealth {
  std::string path;
  std::optional<double> used_percent;  // nullopt: could not be measured
  std::string problem;                 // why not
};

// What oos-health read of a PostgreSQL server (pg/server_health).
struct PostgresHealth {
  std::int64_t connections = 0;                     // client backends connected
  std::int64_t max_connections = 0;                 // the server's max_connections
  std::optional<util::Millis> oldest_transaction;   // the age of the oldest transaction open on another connection
  std::string oldest_transaction_holder;            // "pid 4242 (oos-worker, idle in transaction)"
  util::Millis clock_skew{0};                       // the server's clock minus this host's
  util::Millis transaction_warning{5 * 60 * 1000};  // db.transaction_warning
  util::Millis clock_skew_warning{1000};            // db.clock_skew_warning
};

// What oos-health observed. When the database could not be read (`database_problem` set), only the
// backups and the disks are judged.
struct HealthInput {
  util::UnixMillis now = 0;
  std::string database;  // its path
  std::optional<std::string> database_problem;
  Health database_problem_status = Health::critical;  // UNKNOWN when the check itself could not look
  int schema_version = 0;

  std::optional<util::UnixMillis> last_integrity_check;  // newest "integrity.ok" (full or quick)
  std::optional<util::UnixMillis> last_recovery;         // newest "integrity.recovered"
  util::Millis integrity_interval{24 * 60 * 60 * 1000};

  std::optional<util::UnixMillis> last_backup;  // newest backup with a manifest (verified when it was made)
  std::string last_backup_name;
  std::string backup_dir;
  util::Millis backup_interval{6 * 60 * 60 * 1000};

  std::vector<DiskHealth> disks;
  int disk_threshold_percent = 80;

  std::vector<QueueHealth> queues;
  std::int64_t runnable_for_workers = 0;  // in worker.queues
  std::vector<WorkerHealth> workers;
  std::vector<ProviderHealth> providers;  // search providers in use: a quota ledger, or a breaker not closed
  std::vector<std::string> configured_providers;
  std::vector<KeyRingHealth> key_rings;  // every ring a handler names, by name

  // On PostgreSQL (db.url or $OOS_DATABASE_URL set): the server's checks instead of the integrity and backup ones,
  // which are the server's business; `postgres` is nullopt when it could not be reached.
  bool on_postgresql = false;
  std::optional<PostgresHealth> postgres;
};

// A periodic result older than this many intervals is a WARNING, and older than the second a CRITICAL.
inline constexpr int k_stale_warning_intervals = 2;
inline constexpr int k_stale_critical_intervals = 4;
// A heartbeat older than this is stale: 3 of the worker's heartbeat intervals (10 s; oos-scale checks the two
// agree). oos-scale counts the workers with a fresh one when it cannot ask systemd.
inline constexpr util::Millis k_stale_heartbeat{30'000};
inline bool heartbeat_is_fresh(util::UnixMillis heartbeat_at, util::UnixMillis now) {
  return now - heartbeat_at <= k_stale_heartbeat.count();
}
// Dead-lettered tasks younger than this are "dead letter growth".
inline constexpr util::Millis k_dead_recent{24 * 60 * 60 * 1000};
// A breaker open longer than this is CRITICAL rather than WARNING.
inline constexpr util::Millis k_breaker_open_critical{10 * 60 * 1000};
// PostgreSQL connections in use above this share of max_connections are a WARNING.
inline constexpr int k_connections_warning_percent = 80;
// A disk this full is CRITICAL (or at the threshold, when the threshold is higher).
inline constexpr double k_disk_critical_percent = 95;

// The checks, in a fixed order: database, integrity, backup, disks, queues, workers, search providers, key rings; on
// PostgreSQL: database, postgres connections, postgres transactions, postgres clock, disks, queues, workers, search
// providers, key rings.
std::vector<HealthCheck> assess(const HealthInput& input);

// Whether `key` is kept out of its ring at `now` (the worker's choose_key agrees: a key is back at its
// cooldown_until).
inline bool is_cooling(const RingKeyHealth& key, util::UnixMillis now) {
  return key.cooldown_until > now;
}

// The check "key ring NAME": each key's fingerprint, available or cooling down until when, its uses today and last
// use; OK with "no key handed out yet" before the first pick; WARNING when every stored key cools down (the
// handlers' tasks wait until the first is back).
HealthCheck key_ring_check(const KeyRingHealth& ring, util::UnixMillis now);

// The worst state, ranked OK < WARNING < UNKNOWN < CRITICAL; OK for no checks.
Health overall(const std::vector<HealthCheck>& checks);

// The first line: "OOS OK - 7 checks ok", or "OOS WARNING - backup: ...; queue default: ..." with the
// checks that are not OK, worst first.
std::string summary_line(const std::vector<HealthCheck>& checks);

// Nagios performance data for the text's first line (after " | "): runnable=N dead=N workers=N, the ages of
// the last integrity check and backup in seconds, and each disk's use, e.g.
// "runnable=3 dead=0 workers=1 integrity_age=3600s backup_age=3600s 'disk /var/lib/oos'=50%". What could not
// be read is left out.
std::string perfdata(const HealthInput& input);

}  // namespace oos::policy
