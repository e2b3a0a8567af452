// The configuration of docs/reference.md section 10 as a validated, typed struct, with its defaults.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/duration.hpp"

namespace oos::config {

using util::Millis;
using namespace std::chrono_literals;

enum class Synchronous { full, normal };
enum class LogLevel { debug, info, warn, error, critical };
enum class LogFormat { automatic, journal, json, text };

struct DbSettings {
  Synchronous synchronous = Synchronous::full;
  Millis busy_timeout = 5s;
  std::string url;     // postgresql://... : the shared PostgreSQL database; empty: SQLite in the state directory
  bool listen = true;  // PostgreSQL: an idle worker LISTENs for new tasks (false: it only polls, as behind PgBouncer)
  Millis transaction_warning = 5min;  // oos-health on PostgreSQL: an open transaction older than this is a WARNING
  Millis clock_skew_warning = 1s;     // oos-health on PostgreSQL: the server's clock this far off is a WARNING

  bool operator==(const DbSettings&) const = default;  // every field: a reload compares them
};

struct LogSettings {
  LogLevel level = LogLevel::info;
  LogFormat format = LogFormat::automatic;
  std::string file;  // empty: no file sink
  std::uint64_t max_size = 10ull << 20;
  int max_files = 5;

  bool operator==(const LogSettings&) const = default;  // every field: a reload compares them
};

// Settings of one queue: [queue] gives the defaults, [queues.NAME] overrides any of them.
// The largest configuration file load_config() reads.
inline constexpr std::uint64_t k_max_config_size = 1ull << 20;

struct QueueSettings {
  int max_attempts = 10;
  std::vector<std::int64_t> backoff_seconds{1, 2, 4, 8, 16, 32, 60, 120, 300};
  double backoff_jitter = 0.1;
  Millis lease = 30s;
  std::int64_t depth_alert = 1000;
  Millis dead_retention = 7 * 24h;
  Millis succeeded_retention = 7 * 24h;
  std::uint64_t max_payload = 1ull << 20;  // bytes of one task's payload

  bool operator==(const QueueSettings&) const = default;  // every field: a reload compares them
};

struct BreakerSettings {
  int failure_threshold = 10;
  Millis cooldown = 60s;
  Millis max_cooldown = 1h;

  bool operator==(const BreakerSettings&) const = default;  // every field: a reload compares them
};

struct WorkerSettings {
  std::vector<std::string> queues{"default"};
  Millis poll_interval = 1s;
  Millis shutdown_grace = 25s;
  Millis metrics_interval = 60s;
};

struct HandlerConfig {
  std::vector<std::string> command;  // argv, never a shell string
  Millis timeout = 10min;
  std::vector<std::string> env_keys;       // secrets this handler receives
  std::vector<std::string> pass_env;       // worker variables passed through
  std::map<std::string, std::string> env;  // fixed variables
  std::vector<int> permanent_exit_codes;
  std::vector<std::string> key_rings;          // secrets holding several keys: one key of each per run
  Millis key_cooldown = 1h;                    // how long a key reported exhausted is not handed out
  std::optional<int> key_exhausted_exit_code;  // an exit code that means "my key is exhausted", like the line

  bool operator==(const HandlerConfig&) const = default;  // every field: a reload compares them
};

struct BackupSettings {
  std::string dir;  // empty: <state_dir>/backups
  Millis interval = 6h;
  int keep_last = 8;
  int keep_daily = 7;
  int keep_weekly = 4;
};

struct IntegritySettings {
  Millis interval = 24h;
  int vacuum_threshold_percent = 25;
};

struct CleanupRule {
  std::string dir;
  std::string pattern;
  Millis older_than = 14 * 24h;
};

struct CleanupSettings {
  int threshold_percent = 80;
  std::string log_dir;  // empty: <state_dir>/cleanup_logs
  std::vector<CleanupRule> rules;
};

struct ScaleSettings {
  int min_workers = 1;
  int max_workers = 5;
  int tasks_per_worker = 100;
  double load_threshold = 4.0;
  Millis load_window = 5min;
  int memory_available_min_percent = 10;
  // Memory pressure: PSI "some avg10" of /proc/pressure/memory (percent of time) above which memory is short.
  double memory_pressure_psi_some_avg10 = 10.0;
  std::string manager = "systemd";  // "systemd" | "none"
  std::string unit = "oos-worker@.service";
};

struct SearchProvider {
  std::string endpoint;
  std::int64_t daily_quota = 0;  // 0 = unlimited
  int burst = 10;
  Millis timeout = 15s;  // one request, all of it
  Millis connect_timeout = 5s;

  bool operator==(const SearchProvider&) const = default;  // every field: a reload compares them
};

struct SearchSettings {
  std::vector<std::string> providers{"google"};
  Millis cache_ttl = 24h;
  Millis max_wait = 30s;
  std::map<std::string, SearchProvider> provider{
      {"google", {"https://customsearch.googleapis.com/customsearch/v1", 8000, 10, 15s, 5s}},
      {"searxng", {"http://127.0.0.1:8888", 0, 10, 15s, 5s}},
      {"brave", {"https://api.search.brave.com", 2000, 10, 15s, 5s}},
  };

  bool operator==(const SearchSettings&) const = default;  // every field: a reload compares them
};

struct MetricsSettings {
  std::string textfile_dir;  // empty: no textfile
};

// [api]: oos-api's limits (docs/reference.md, HTTP API).
struct ApiSettings {
  std::uint64_t max_body = 1ull << 20;     // a larger request body is refused with 413
  int max_connections = 64;                // connections beyond are closed at once
  Millis connection_timeout = 30s;         // an idle connection is closed after this
  int max_connections_per_ip = 16;         // connections from one address beyond are closed at once
  Millis idle_exit = 60s;                  // under socket activation, exit after this long without a connection
  std::vector<std::string> allowed_hosts;  // Host names served besides the loopback names and the listen address
};

struct Config {
  std::filesystem::path source;          // the file it came from; empty for built-in defaults
  std::optional<std::string> state_dir;  // paths.state_dir, if set
  DbSettings db;
  LogSettings log;
  QueueSettings queue;
  std::map<std::string, QueueSettings> queues;
  BreakerSettings breaker;
  WorkerSettings worker;
  std::map<std::string, HandlerConfig> handlers;
  BackupSettings backup;
  IntegritySettings integrity;
  CleanupSettings cleanup;
  ScaleSettings scale;
  SearchSettings search;
  MetricsSettings metrics;
  ApiSettings api;

  // The settings of queue `name`: its [queues.NAME] table, else the [queue] defaults.
  const QueueSettings& queue_settings(const std::string& name) const;
};

// Parses TOML text. Throws oos::Error (exit 78) naming `source`, the line and the key for malformed TOML,
// an unknown key, a wrong type or an invalid value.
Config parse_config(const std::string& text, const std::filesystem::path& source);

// The sections of a config file ("paths", "db", ..., "metrics"), in the order they are read. Each one, and
// each table inside one, rejects a key it does not know.
std::vector<std::string> section_names();

// Loads the config file chosen as docs/reference.md section 4 says: `explicit_path` (--config), else $OOS_CONFIG,
// else /etc/oos/oos.toml if it exists, else the built-in defaults. A named file that cannot be read
// is a configuration error (exit 78).
Config load_config(const std::optional<std::filesystem::path>& explicit_path);

std::string to_string(LogLevel level);
std::optional<LogLevel> parse_log_level(std::string_view text);
// "auto", "journal", "json" or "text".
std::optional<LogFormat> parse_log_format(std::string_view text);

}  // namespace oos::config
