#include "config.hpp"

// toml++ is compiled into this file alone (header-only mode) rather than loaded as a shared library.
#define TOML_HEADER_ONLY 1
#define TOML_ENABLE_FORMATTERS 0
#include <toml++/toml.h>
#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstdlib>
#include <limits>

#include "error.hpp"
#include "util/files.hpp"
#include "util/name.hpp"

namespace oos::config {
namespace {

namespace fs = std::filesystem;

std::string type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date or time";
  }
}

std::string format_number(double v) {
  auto s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  return s;
}

// Why a table name of [queues.NAME] or [handlers.TYPE], or a worker.queues entry, is refused.
constexpr const char* k_name_rule = "invalid name: use 1-64 letters, digits, '_', '-', '.' or ':'";

[[noreturn]] void fail_at(const fs::path& source, const toml::source_region& where, const std::string& key,
                          const std::string& cause) {
  throw Error(ExitCode::config, source.string() + ":" + std::to_string(where.begin.line) + ": key '" +
                                    util::cut_for_message(key) + "': " + cause);
}

class Value;

// One key of a table: its name and how its value is read into the settings S (a row of the key tables
// below, as in ccache's config key table).
template <typename S>
struct Key {
  std::string name;
  void (*read)(const Value& value, S& out);
};

// The keys a table may hold, read in this order (a later key may depend on an earlier one), and an optional
// check of the whole table once its keys are read (the rules that span keys).
template <typename S>
struct Keys {
  std::vector<Key<S>> keys;
  void (*check)(const Value& table, const S& out) = nullptr;
};

// A value of the file with its full dotted key ("queues.mail.lease"). The typed readers check its type and
// range; every error names the file, the line and the key. Tables are read only through read(), read_each()
// and read_array(), which always reject the keys their Keys do not name.
class Value {
 public:
  Value(const toml::node& node, std::string key, std::string name, const fs::path& source)
      : m_node(node), m_key(std::move(key)), m_name(std::move(name)), m_source(source) {}

  // The last part of the key: "mail" for "queues.mail".
  const std::string& name() const { return m_name; }

  [[noreturn]] void fail(const std::string& cause) const { fail_at(m_source, m_node.source(), m_key, cause); }
  // For a table's check: the error names `key` in the table, at the table's line.
  [[noreturn]] void fail_key(const std::string& key, const std::string& cause) const {
    fail_at(m_source, m_node.source(), child_key(key), cause);
  }

  std::string string() const { return expect<std::string>(m_node, m_key, "a string"); }
  template <std::integral Int>
  Int integer(Int min, Int max) const {
    auto value = expect<std::int64_t>(m_node, m_key, "an integer");
    if (value < min || value > max) fail("must be between " + std::to_string(min) + " and " + std::to_string(max));
    return static_cast<Int>(value);
  }
  // A float, or an integer taken as one.
  double number(double min, double max) const {
    double value = 0;
    if (auto integer = m_node.value_exact<std::int64_t>())
      value = static_cast<double>(*integer);
    else
      value = expect<double>(m_node, m_key, "a number");
    // nan fails no comparison, so it would pass the range check below.
    if (!std::isfinite(value)) fail("must be a finite number");
    if (value < min || value > max) fail("must be between " + format_number(min) + " and " + format_number(max));
    return value;
  }
  Millis duration() const {
    auto parsed = util::parse_duration(expect<std::string>(m_node, m_key, "a duration string such as \"30s\""));
    if (!parsed) fail(parsed.error());
    return *parsed;
  }
  std::uint64_t size() const {
    auto parsed = util::parse_size(expect<std::string>(m_node, m_key, "a size string such as \"10MB\""));
    if (!parsed) fail(parsed.error());
    return *parsed;
  }
  std::vector<std::string> strings() const {
    std::vector<std::string> out;
    for (const auto& item : array("an array of strings"))
      out.push_back(expect<std::string>(item, m_key, "an array of strings"));
    return out;
  }
  template <std::integral Int>
  std::vector<Int> integers(Int min, Int max) const {
    std::vector<Int> out;
    for (const auto& item : array("an array of integers")) {
      auto value = expect<std::int64_t>(item, m_key, "an array of integers");
      if (value < min || value > max)
        fail_at(m_source, item.source(), m_key,
                "values must be between " + std::to_string(min) + " and " + std::to_string(max));
      out.push_back(static_cast<Int>(value));
    }
    return out;
  }
  std::map<std::string, std::string> string_map() const {
    std::map<std::string, std::string> out;
    for (const auto& [name, value] : table())
      out[std::string(name.str())] = expect<std::string>(value, child_key(name.str()), "a string");
    return out;
  }
  // One of the names in `choices`, as its value.
  template <typename T, std::size_t N>
  T choice(const std::array<std::pair<const char*, T>, N>& choices) const {
    if (auto text = m_node.value_exact<std::string>())
      for (const auto& [name, value] : choices)
        if (*text == name) return value;
    std::string allowed;
    for (const auto& [name, value] : choices) allowed += (allowed.empty() ? "\"" : ", \"") + std::string(name) + "\"";
    fail("must be one of " + allowed);
  }

  // This value as a table: its keys read into `out` by `keys`, any other key rejected, then `keys.check`.
  template <typename S>
  void read(const Keys<S>& keys, S& out) const {
    const auto& t = table();
    for (const auto& key : keys.keys)
      if (const auto* node = t.get(key.name)) key.read(child(*node, key.name), out);
    for (const auto& [name, node] : t) {
      bool known = std::ranges::any_of(keys.keys, [&](const Key<S>& key) { return key.name == name.str(); });
      if (!known)
        throw Error(ExitCode::config, m_source.string() + ":" + std::to_string(name.source().begin.line) +
                                          ": unknown key '" + util::cut_for_message(child_key(name.str())) + "'");
    }
    if (keys.check) keys.check(*this, out);
  }
  // This value as a table of named tables ([queues.NAME], [handlers.TYPE]): each read by `keys` into out[NAME],
  // starting from `initial`. NAME must be a name a command line can give (util::is_plain_name).
  template <typename S>
  void read_each(const Keys<S>& keys, std::map<std::string, S>& out, const S& initial) const {
    for (const auto& [name, node] : table()) {
      if (!util::is_plain_name(name.str())) fail_at(m_source, name.source(), child_key(name.str()), k_name_rule);
      S settings = initial;
      child(node, std::string(name.str())).read(keys, settings);
      out[std::string(name.str())] = std::move(settings);
    }
  }
  // This value as an array of tables ([[cleanup.rule]]), each read by `keys` (under this value's key).
  template <typename S>
  std::vector<S> read_array(const Keys<S>& keys) const {
    if (!m_node.is_array_of_tables()) fail("expected [[" + m_key + "]] tables");
    std::vector<S> out;
    for (const auto& item : *m_node.as_array()) {
      S settings;
      Value(item, m_key, m_name, m_source).read(keys, settings);
      out.push_back(std::move(settings));
    }
    return out;
  }

 private:
  std::string child_key(std::string_view name) const {
    return m_key.empty() ? std::string(name) : m_key + "." + std::string(name);
  }
  Value child(const toml::node& node, const std::string& name) const {
    return Value(node, child_key(name), name, m_source);
  }
  template <typename T>
  T expect(const toml::node& node, const std::string& key, const char* what) const {
    auto value = node.value_exact<T>();
    if (!value) fail_at(m_source, node.source(), key, std::string("expected ") + what + ", got " + type_name(node));
    return *value;
  }
  const toml::array& array(const char* what) const {
    if (!m_node.is_array()) fail(std::string("expected ") + what + ", got " + type_name(m_node));
    return *m_node.as_array();
  }
  const toml::table& table() const {
    if (!m_node.is_table()) fail("expected a table, got " + type_name(m_node));
    return *m_node.as_table();
  }

  const toml::node& m_node;
  std::string m_key;
  std::string m_name;
  const fs::path& m_source;
};

constexpr auto k_max_int64 = std::numeric_limits<std::int64_t>::max();

constexpr std::array<std::pair<const char*, LogLevel>, 5> k_levels{{{"debug", LogLevel::debug},
                                                                    {"info", LogLevel::info},
                                                                    {"warn", LogLevel::warn},
                                                                    {"error", LogLevel::error},
                                                                    {"critical", LogLevel::critical}}};

constexpr std::array<std::pair<const char*, LogFormat>, 4> k_formats{{{"auto", LogFormat::automatic},
                                                                      {"journal", LogFormat::journal},
                                                                      {"json", LogFormat::json},
                                                                      {"text", LogFormat::text}}};

constexpr std::array<std::pair<const char*, Synchronous>, 2> k_synchronous{
    {{"full", Synchronous::full}, {"normal", Synchronous::normal}}};

constexpr std::array<std::pair<const char*, const char*>, 2> k_managers{{{"systemd", "systemd"}, {"none", "none"}}};

// The key tables, one per kind of table in the file (docs/reference.md section 10). Adding a key is adding a row.

const Keys<Config> k_paths{{
    {"state_dir", [](const Value& v, Config& c) { c.state_dir = v.string(); }},
}};

const Keys<DbSettings> k_db{{
    {"synchronous", [](const Value& v, DbSettings& s) { s.synchronous = v.choice(k_synchronous); }},
    {"busy_timeout", [](const Value& v, DbSettings& s) { s.busy_timeout = v.duration(); }},
}};

const Keys<LogSettings> k_log{{
    {"level", [](const Value& v, LogSettings& s) { s.level = v.choice(k_levels); }},
    {"format", [](const Value& v, LogSettings& s) { s.format = v.choice(k_formats); }},
    {"file", [](const Value& v, LogSettings& s) { s.file = v.string(); }},
    {"max_size", [](const Value& v, LogSettings& s) { s.max_size = v.size(); }},
    {"max_files", [](const Value& v, LogSettings& s) { s.max_files = v.integer(1, 1000); }},
}};

// [queue] and every [queues.NAME].
const Keys<QueueSettings> k_queue{
    {
        {"max_attempts", [](const Value& v, QueueSettings& q) { q.max_attempts = v.integer(1, 1000); }},
        {"backoff",
         [](const Value& v, QueueSettings& q) { q.backoff_seconds = v.integers<std::int64_t>(0, 30 * 86400); }},
        {"backoff_jitter", [](const Value& v, QueueSettings& q) { q.backoff_jitter = v.number(0.0, 1.0); }},
        {"lease", [](const Value& v, QueueSettings& q) { q.lease = v.duration(); }},
        {"depth_alert",
         [](const Value& v, QueueSettings& q) { q.depth_alert = v.integer<std::int64_t>(0, k_max_int64); }},
        {"dead_retention", [](const Value& v, QueueSettings& q) { q.dead_retention = v.duration(); }},
        {"succeeded_retention", [](const Value& v, QueueSettings& q) { q.succeeded_retention = v.duration(); }},
        {"max_payload", [](const Value& v, QueueSettings& q) { q.max_payload = v.size(); }},
    },
    [](const Value& table, const QueueSettings& q) {
      if (q.backoff_seconds.empty()) table.fail_key("backoff", "must not be empty");
      if (q.lease < 1s) table.fail_key("lease", "must be at least 1s");
      if (q.max_payload < 2 || q.max_payload > (1ull << 30))
        table.fail_key("max_payload", "must be between 2B and 1GB");
    }};

const Keys<BreakerSettings> k_breaker{
    {
        {"failure_threshold",
         [](const Value& v, BreakerSettings& s) { s.failure_threshold = v.integer(1, 1'000'000); }},
        {"cooldown", [](const Value& v, BreakerSettings& s) { s.cooldown = v.duration(); }},
        {"max_cooldown", [](const Value& v, BreakerSettings& s) { s.max_cooldown = v.duration(); }},
    },
    [](const Value& table, const BreakerSettings& s) {
      if (s.max_cooldown < s.cooldown) table.fail_key("max_cooldown", "must not be shorter than breaker.cooldown");
    }};

const Keys<WorkerSettings> k_worker{
    {
        {"queues",
         [](const Value& v, WorkerSettings& s) {
           s.queues = v.strings();
           for (const auto& name : s.queues)
             if (!util::is_plain_name(name)) v.fail("'" + util::cut_for_message(name) + "': " + k_name_rule);
         }},
        {"poll_interval", [](const Value& v, WorkerSettings& s) { s.poll_interval = v.duration(); }},
        {"shutdown_grace", [](const Value& v, WorkerSettings& s) { s.shutdown_grace = v.duration(); }},
        {"metrics_interval", [](const Value& v, WorkerSettings& s) { s.metrics_interval = v.duration(); }},
    },
    [](const Value& table, const WorkerSettings& s) {
      if (s.queues.empty()) table.fail_key("queues", "must name at least one queue");
    }};

// Every [handlers.TYPE].
const Keys<HandlerConfig> k_handler{
    {
        {"command", [](const Value& v, HandlerConfig& h) { h.command = v.strings(); }},
        {"timeout", [](const Value& v, HandlerConfig& h) { h.timeout = v.duration(); }},
        {"env_keys", [](const Value& v, HandlerConfig& h) { h.env_keys = v.strings(); }},
        {"pass_env", [](const Value& v, HandlerConfig& h) { h.pass_env = v.strings(); }},
        {"env", [](const Value& v, HandlerConfig& h) { h.env = v.string_map(); }},
        {"permanent_exit_codes", [](const Value& v, HandlerConfig& h) { h.permanent_exit_codes = v.integers(1, 255); }},
    },
    [](const Value& table, const HandlerConfig& h) {
      if (h.command.empty() || h.command.front().empty()) table.fail_key("command", "must name a program");
      // A relative program would be looked up in the worker's PATH or its working directory, which the unit
      // and a hand run do not share.
      if (!h.command.front().starts_with('/'))
        table.fail_key("command",
                       "the program must be an absolute path, not '" + util::cut_for_message(h.command.front()) + "'");
    }};

const Keys<BackupSettings> k_backup{{
    {"dir", [](const Value& v, BackupSettings& s) { s.dir = v.string(); }},
    {"interval", [](const Value& v, BackupSettings& s) { s.interval = v.duration(); }},
    {"keep_last", [](const Value& v, BackupSettings& s) { s.keep_last = v.integer(1, 100000); }},
    {"keep_daily", [](const Value& v, BackupSettings& s) { s.keep_daily = v.integer(0, 100000); }},
    {"keep_weekly", [](const Value& v, BackupSettings& s) { s.keep_weekly = v.integer(0, 100000); }},
}};

const Keys<IntegritySettings> k_integrity{{
    {"interval", [](const Value& v, IntegritySettings& s) { s.interval = v.duration(); }},
    {"vacuum_threshold_percent",
     [](const Value& v, IntegritySettings& s) { s.vacuum_threshold_percent = v.integer(0, 100); }},
}};

// Every [[cleanup.rule]].
const Keys<CleanupRule> k_cleanup_rule{
    {
        {"dir", [](const Value& v, CleanupRule& r) { r.dir = v.string(); }},
        {"pattern", [](const Value& v, CleanupRule& r) { r.pattern = v.string(); }},
        {"older_than", [](const Value& v, CleanupRule& r) { r.older_than = v.duration(); }},
    },
    [](const Value& table, const CleanupRule& r) {
      if (r.dir.empty() || r.pattern.empty()) table.fail("needs both 'dir' and 'pattern'");
    }};

const Keys<CleanupSettings> k_cleanup{{
    {"threshold_percent", [](const Value& v, CleanupSettings& s) { s.threshold_percent = v.integer(0, 100); }},
    {"log_dir", [](const Value& v, CleanupSettings& s) { s.log_dir = v.string(); }},
    {"rule", [](const Value& v, CleanupSettings& s) { s.rules = v.read_array(k_cleanup_rule); }},
}};

const Keys<ScaleSettings> k_scale{
    {
        {"min_workers", [](const Value& v, ScaleSettings& s) { s.min_workers = v.integer(0, 1000); }},
        {"max_workers", [](const Value& v, ScaleSettings& s) { s.max_workers = v.integer(0, 1000); }},
        {"tasks_per_worker", [](const Value& v, ScaleSettings& s) { s.tasks_per_worker = v.integer(1, 1'000'000); }},
        {"load_threshold", [](const Value& v, ScaleSettings& s) { s.load_threshold = v.number(0.0, 10000.0); }},
        {"load_window", [](const Value& v, ScaleSettings& s) { s.load_window = v.duration(); }},
        {"memory_available_min_percent",
         [](const Value& v, ScaleSettings& s) { s.memory_available_min_percent = v.integer(0, 100); }},
        {"memory_pressure_psi_some_avg10",
         [](const Value& v, ScaleSettings& s) { s.memory_pressure_psi_some_avg10 = v.number(0.0, 100.0); }},
        {"manager", [](const Value& v, ScaleSettings& s) { s.manager = v.choice(k_managers); }},
        {"unit", [](const Value& v, ScaleSettings& s) { s.unit = v.string(); }},
    },
    [](const Value& table, const ScaleSettings& s) {
      if (s.min_workers > s.max_workers) table.fail_key("min_workers", "must not exceed scale.max_workers");
    }};

// Every [search.PROVIDER].
const Keys<SearchProvider> k_search_provider{
    {
        {"endpoint", [](const Value& v, SearchProvider& p) { p.endpoint = v.string(); }},
        {"daily_quota",
         [](const Value& v, SearchProvider& p) { p.daily_quota = v.integer<std::int64_t>(0, k_max_int64); }},
        {"burst", [](const Value& v, SearchProvider& p) { p.burst = v.integer(1, 100000); }},
        {"timeout", [](const Value& v, SearchProvider& p) { p.timeout = v.duration(); }},
        {"connect_timeout", [](const Value& v, SearchProvider& p) { p.connect_timeout = v.duration(); }},
    },
    [](const Value& table, const SearchProvider& p) {
      if (p.timeout < 1ms) table.fail_key("timeout", "must be more than 0");
      if (p.connect_timeout < 1ms) table.fail_key("connect_timeout", "must be more than 0");
    }};

// [search]: its own keys, then one table per provider that SearchSettings knows (no other provider exists).
Keys<SearchSettings> search_keys() {
  Keys<SearchSettings> keys{{
      {"providers",
       [](const Value& v, SearchSettings& s) {
         s.providers = v.strings();
         for (const auto& name : s.providers)
           if (!s.provider.contains(name)) v.fail("unknown provider '" + name + "': use google, searxng or brave");
       }},
      {"cache_ttl", [](const Value& v, SearchSettings& s) { s.cache_ttl = v.duration(); }},
      {"max_wait", [](const Value& v, SearchSettings& s) { s.max_wait = v.duration(); }},
  }};
  for (const auto& [name, defaults] : SearchSettings{}.provider)
    keys.keys.push_back(
        {name, [](const Value& v, SearchSettings& s) { v.read(k_search_provider, s.provider.at(v.name())); }});
  return keys;
}
const Keys<SearchSettings> k_search = search_keys();

const Keys<MetricsSettings> k_metrics{{
    {"textfile_dir", [](const Value& v, MetricsSettings& s) { s.textfile_dir = v.string(); }},
}};

// The sections, in the order they are read: [queues.NAME] start from [queue], so [queue] comes first.
const Keys<Config> k_sections{{
    {"paths", [](const Value& v, Config& c) { v.read(k_paths, c); }},
    {"db", [](const Value& v, Config& c) { v.read(k_db, c.db); }},
    {"log", [](const Value& v, Config& c) { v.read(k_log, c.log); }},
    {"queue", [](const Value& v, Config& c) { v.read(k_queue, c.queue); }},
    {"queues", [](const Value& v, Config& c) { v.read_each(k_queue, c.queues, c.queue); }},
    {"breaker", [](const Value& v, Config& c) { v.read(k_breaker, c.breaker); }},
    {"worker", [](const Value& v, Config& c) { v.read(k_worker, c.worker); }},
    {"handlers", [](const Value& v, Config& c) { v.read_each(k_handler, c.handlers, HandlerConfig{}); }},
    {"backup", [](const Value& v, Config& c) { v.read(k_backup, c.backup); }},
    {"integrity", [](const Value& v, Config& c) { v.read(k_integrity, c.integrity); }},
    {"cleanup", [](const Value& v, Config& c) { v.read(k_cleanup, c.cleanup); }},
    {"scale", [](const Value& v, Config& c) { v.read(k_scale, c.scale); }},
    {"search", [](const Value& v, Config& c) { v.read(k_search, c.search); }},
    {"metrics", [](const Value& v, Config& c) { v.read(k_metrics, c.metrics); }},
}};

}  // namespace

std::vector<std::string> section_names() {
  std::vector<std::string> names;
  for (const auto& key : k_sections.keys) names.push_back(key.name);
  return names;
}

const QueueSettings& Config::queue_settings(const std::string& name) const {
  auto it = queues.find(name);
  return it == queues.end() ? queue : it->second;
}

Config parse_config(const std::string& text, const std::filesystem::path& source) {
  toml::table table;
  try {
    table = toml::parse(text, source.string());
  } catch (const toml::parse_error& e) {
    throw Error(ExitCode::config, source.string() + ":" + std::to_string(e.source().begin.line) +
                                      ": malformed TOML: " + std::string(e.description()));
  }
  Config config;
  config.source = source;
  Value(table, "", "", config.source).read(k_sections, config);
  return config;
}

Config load_config(const std::optional<std::filesystem::path>& explicit_path) {
  std::filesystem::path path;
  if (explicit_path) {
    path = *explicit_path;
  } else if (const char* env = std::getenv("OOS_CONFIG"); env && *env) {
    path = env;
  } else {
    std::error_code ec;
    if (!std::filesystem::exists("/etc/oos/oos.toml", ec)) return Config{};
    path = "/etc/oos/oos.toml";
  }
  auto text = util::read_file_within(path, k_max_config_size);
  if (!text) throw Error(ExitCode::config, "config: " + text.error());
  if (!*text)
    throw Error(ExitCode::config,
                "config file '" + path.string() + "' is larger than " + util::size_words(k_max_config_size));
  return parse_config(**text, path);
}

std::string to_string(LogLevel level) {
  for (const auto& [name, value] : k_levels)
    if (value == level) return name;
  return "info";
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
  for (const auto& [name, value] : k_levels)
    if (text == name) return value;
  return std::nullopt;
}

std::optional<LogFormat> parse_log_format(std::string_view text) {
  for (const auto& [name, value] : k_formats)
    if (text == name) return value;
  return std::nullopt;
}

}  // namespace oos::config
