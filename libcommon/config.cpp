#include "config.hpp"

// toml++ is compiled into this file alone (header-only mode) rather than loaded as a shared library.
#define TOML_HEADER_ONLY 1
#define TOML_ENABLE_FORMATTERS 0
#include <toml++/toml.h>
#include <algorithm>
#include <array>
#include <cstdlib>

#include "error.hpp"
#include "util/files.hpp"

namespace oos::config {
namespace {

// Reads the keys of one TOML table into typed fields, remembering which keys it consumed so that every
// other key can be reported as unknown. Every error names file, line and the full dotted key.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string prefix, const std::filesystem::path& source)
      : m_table(table), m_prefix(std::move(prefix)), m_source(source) {}

  [[noreturn]] void fail(const toml::node& node, const std::string& key, const std::string& cause) const {
    throw Error(ExitCode::config, m_source.string() + ":" + std::to_string(node.source().begin.line) + ": key '" +
                                      m_prefix + key + "': " + cause);
  }

  const toml::node* take(const std::string& key) {
    m_known.push_back(key);
    return m_table.get(key);
  }

  void read(const std::string& key, std::string& out) {
    if (auto* node = take(key)) out = expect<std::string>(*node, key, "a string");
  }
  void read(const std::string& key, std::optional<std::string>& out) {
    if (auto* node = take(key)) out = expect<std::string>(*node, key, "a string");
  }
  void read(const std::string& key, std::int64_t& out, std::int64_t min, std::int64_t max) {
    auto* node = take(key);
    if (!node) return;
    auto value = expect<std::int64_t>(*node, key, "an integer");
    if (value < min || value > max)
      fail(*node, key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    out = value;
  }
  void read(const std::string& key, int& out, int min, int max) {
    std::int64_t value = out;
    read(key, value, min, max);
    out = static_cast<int>(value);
  }
  void read(const std::string& key, double& out, double min, double max) {
    auto* node = take(key);
    if (!node) return;
    double value = 0;
    if (auto integer = node->value_exact<std::int64_t>())
      value = static_cast<double>(*integer);
    else
      value = expect<double>(*node, key, "a number");
    if (value < min || value > max) fail(*node, key, "must be between " + fmt_number(min) + " and " + fmt_number(max));
    out = value;
  }
  void read_duration(const std::string& key, Millis& out) {
    auto* node = take(key);
    if (!node) return;
    auto parsed = util::parse_duration(expect<std::string>(*node, key, "a duration string such as \"30s\""));
    if (!parsed) fail(*node, key, parsed.error());
    out = *parsed;
  }
  void read_size(const std::string& key, std::uint64_t& out) {
    auto* node = take(key);
    if (!node) return;
    auto parsed = util::parse_size(expect<std::string>(*node, key, "a size string such as \"10MB\""));
    if (!parsed) fail(*node, key, parsed.error());
    out = *parsed;
  }
  void read(const std::string& key, std::vector<std::string>& out) {
    auto* node = take(key);
    if (!node) return;
    out.clear();
    for (const auto& item : array_of(*node, key, "an array of strings"))
      out.push_back(expect<std::string>(item, key, "an array of strings"));
  }
  template <typename Int>
  void read(const std::string& key, std::vector<Int>& out, std::int64_t min, std::int64_t max) {
    auto* node = take(key);
    if (!node) return;
    out.clear();
    for (const auto& item : array_of(*node, key, "an array of integers")) {
      auto value = expect<std::int64_t>(item, key, "an array of integers");
      if (value < min || value > max)
        fail(item, key, "values must be between " + std::to_string(min) + " and " + std::to_string(max));
      out.push_back(static_cast<Int>(value));
    }
  }
  void read(const std::string& key, std::map<std::string, std::string>& out) {
    auto* node = take(key);
    if (!node) return;
    out.clear();
    for (const auto& [name, value] : table_of(*node, key))
      out[std::string(name.str())] = expect<std::string>(value, key + "." + std::string(name.str()), "a string");
  }
  // A nested table, or nullptr when absent.
  const toml::table* sub_table(const std::string& key) {
    auto* node = take(key);
    return node ? &table_of(*node, key) : nullptr;
  }
  TableReader nested(const toml::table& table, const std::string& key) const {
    return TableReader(table, m_prefix + key + ".", m_source);
  }

  // Fails on the first key that no read() asked for.
  void reject_unknown() const {
    for (const auto& [key, node] : m_table) {
      auto name = std::string(key.str());
      if (std::find(m_known.begin(), m_known.end(), name) == m_known.end())
        throw Error(ExitCode::config, m_source.string() + ":" + std::to_string(key.source().begin.line) +
                                          ": unknown key '" + m_prefix + name + "'");
    }
  }

 private:
  template <typename T>
  T expect(const toml::node& node, const std::string& key, const char* what) const {
    auto value = node.value_exact<T>();
    if (!value) fail(node, key, std::string("expected ") + what + ", got " + type_name(node));
    return *value;
  }
  const toml::array& array_of(const toml::node& node, const std::string& key, const char* what) const {
    if (!node.is_array()) fail(node, key, std::string("expected ") + what + ", got " + type_name(node));
    return *node.as_array();
  }
  const toml::table& table_of(const toml::node& node, const std::string& key) const {
    if (!node.is_table()) fail(node, key, "expected a table, got " + type_name(node));
    return *node.as_table();
  }
  static std::string type_name(const toml::node& node) {
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
  static std::string fmt_number(double v) {
    auto s = std::to_string(v);
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
    return s;
  }

  const toml::table& m_table;
  std::string m_prefix;
  const std::filesystem::path& m_source;
  std::vector<std::string> m_known;
};

template <typename Enum, std::size_t N>
void read_enum(TableReader& reader, const std::string& key, Enum& out,
               const std::array<std::pair<const char*, Enum>, N>& choices) {
  auto* node = reader.take(key);
  if (!node) return;
  std::string allowed;
  if (auto text = node->value_exact<std::string>()) {
    for (const auto& [name, value] : choices)
      if (*text == name) {
        out = value;
        return;
      }
  }
  for (const auto& [name, value] : choices) allowed += (allowed.empty() ? "\"" : ", \"") + std::string(name) + "\"";
  reader.fail(*node, key, "must be one of " + allowed);
}

constexpr std::array<std::pair<const char*, LogLevel>, 5> k_levels{{{"debug", LogLevel::debug},
                                                                    {"info", LogLevel::info},
                                                                    {"warn", LogLevel::warn},
                                                                    {"error", LogLevel::error},
                                                                    {"critical", LogLevel::critical}}};

constexpr std::array<std::pair<const char*, LogFormat>, 4> k_formats{{{"auto", LogFormat::automatic},
                                                                      {"journal", LogFormat::journal},
                                                                      {"json", LogFormat::json},
                                                                      {"text", LogFormat::text}}};

void read_queue(TableReader& r, QueueSettings& q) {
  r.read("max_attempts", q.max_attempts, 1, 1000);
  r.read("backoff", q.backoff_seconds, 0, 30 * 86400);
  r.read("backoff_jitter", q.backoff_jitter, 0.0, 1.0);
  r.read_duration("lease", q.lease);
  r.read("depth_alert", q.depth_alert, 0, std::numeric_limits<std::int64_t>::max());
  r.read_duration("dead_retention", q.dead_retention);
  r.read_duration("succeeded_retention", q.succeeded_retention);
}

void check_queue(const TableReader& r, const toml::node& where, const std::string& prefix, const QueueSettings& q) {
  if (q.backoff_seconds.empty()) r.fail(where, prefix + "backoff", "must not be empty");
  if (q.lease < 1s) r.fail(where, prefix + "lease", "must be at least 1s");
}

void read_handler(TableReader r, const toml::node& where, HandlerConfig& h) {
  r.read("command", h.command);
  r.read_duration("timeout", h.timeout);
  r.read("env_keys", h.env_keys);
  r.read("pass_env", h.pass_env);
  r.read("env", h.env);
  r.read("permanent_exit_codes", h.permanent_exit_codes, 1, 255);
  r.reject_unknown();
  if (h.command.empty() || h.command.front().empty()) r.fail(where, "command", "must name a program");
}

void read_search(TableReader& r, SearchSettings& s) {
  r.read("providers", s.providers);
  r.read_duration("cache_ttl", s.cache_ttl);
  r.read_duration("max_wait", s.max_wait);
  for (auto& [name, provider] : s.provider) {
    if (auto* t = r.sub_table(name)) {
      auto p = r.nested(*t, name);
      p.read("endpoint", provider.endpoint);
      p.read("daily_quota", provider.daily_quota, 0, std::numeric_limits<std::int64_t>::max());
      p.read("burst", provider.burst, 1, 100000);
      p.read_duration("timeout", provider.timeout);
      p.read_duration("connect_timeout", provider.connect_timeout);
      p.reject_unknown();
      if (provider.timeout < 1ms) p.fail(*t, "timeout", "must be more than 0");
      if (provider.connect_timeout < 1ms) p.fail(*t, "connect_timeout", "must be more than 0");
    }
  }
  for (const auto& name : s.providers)
    if (!s.provider.contains(name))
      r.fail(*r.take("providers"), "providers", "unknown provider '" + name + "': use google, searxng or brave");
}

void read_sections(TableReader& root, Config& c) {
  if (auto* t = root.sub_table("paths")) {
    auto r = root.nested(*t, "paths");
    r.read("state_dir", c.state_dir);
    r.reject_unknown();
  }
  if (auto* t = root.sub_table("db")) {
    auto r = root.nested(*t, "db");
    read_enum(r, "synchronous", c.db.synchronous,
              std::array<std::pair<const char*, Synchronous>, 2>{
                  {{"full", Synchronous::full}, {"normal", Synchronous::normal}}});
    r.read_duration("busy_timeout", c.db.busy_timeout);
    r.reject_unknown();
  }
  if (auto* t = root.sub_table("log")) {
    auto r = root.nested(*t, "log");
    read_enum(r, "level", c.log.level, k_levels);
    read_enum(r, "format", c.log.format, k_formats);
    r.read("file", c.log.file);
    r.read_size("max_size", c.log.max_size);
    r.read("max_files", c.log.max_files, 1, 1000);
    r.reject_unknown();
  }
  if (auto* t = root.sub_table("queue")) {
    auto r = root.nested(*t, "queue");
    read_queue(r, c.queue);
    r.reject_unknown();
    check_queue(root, *t, "queue.", c.queue);
  }
  if (auto* t = root.sub_table("queues")) {
    auto queues = root.nested(*t, "queues");
    for (const auto& [name, node] : *t) {
      std::string queue_name(name.str());
      auto* qt = queues.sub_table(queue_name);
      auto r = queues.nested(*qt, queue_name);
      QueueSettings settings = c.queue;
      read_queue(r, settings);
      r.reject_unknown();
      check_queue(root, node, "queues." + queue_name + ".", settings);
      c.queues[queue_name] = settings;
    }
  }
  if (auto* t = root.sub_table("breaker")) {
    auto r = root.nested(*t, "breaker");
    r.read("failure_threshold", c.breaker.failure_threshold, 1, 1'000'000);
    r.read_duration("cooldown", c.breaker.cooldown);
    r.read_duration("max_cooldown", c.breaker.max_cooldown);
    r.reject_unknown();
    if (c.breaker.max_cooldown < c.breaker.cooldown)
      root.fail(*t, "breaker.max_cooldown", "must not be shorter than breaker.cooldown");
  }
  if (auto* t = root.sub_table("worker")) {
    auto r = root.nested(*t, "worker");
    r.read("queues", c.worker.queues);
    r.read_duration("poll_interval", c.worker.poll_interval);
    r.read_duration("shutdown_grace", c.worker.shutdown_grace);
    r.read_duration("metrics_interval", c.worker.metrics_interval);
    r.reject_unknown();
    if (c.worker.queues.empty()) root.fail(*t, "worker.queues", "must name at least one queue");
  }
  if (auto* t = root.sub_table("handlers")) {
    auto handlers = root.nested(*t, "handlers");
    for (const auto& [name, node] : *t) {
      std::string type(name.str());
      auto* ht = handlers.sub_table(type);
      read_handler(handlers.nested(*ht, type), node, c.handlers[type]);
    }
  }
  if (auto* t = root.sub_table("backup")) {
    auto r = root.nested(*t, "backup");
    r.read("dir", c.backup.dir);
    r.read_duration("interval", c.backup.interval);
    r.read("keep_last", c.backup.keep_last, 1, 100000);
    r.read("keep_daily", c.backup.keep_daily, 0, 100000);
    r.read("keep_weekly", c.backup.keep_weekly, 0, 100000);
    r.reject_unknown();
  }
  if (auto* t = root.sub_table("integrity")) {
    auto r = root.nested(*t, "integrity");
    r.read_duration("interval", c.integrity.interval);
    r.read("vacuum_threshold_percent", c.integrity.vacuum_threshold_percent, 0, 100);
    r.reject_unknown();
  }
  if (auto* t = root.sub_table("cleanup")) {
    auto r = root.nested(*t, "cleanup");
    r.read("threshold_percent", c.cleanup.threshold_percent, 0, 100);
    r.read("log_dir", c.cleanup.log_dir);
    if (auto* rules = r.take("rule")) {
      if (!rules->is_array_of_tables()) r.fail(*rules, "rule", "expected [[cleanup.rule]] tables");
      for (const auto& item : *rules->as_array()) {
        CleanupRule rule;
        auto rr = r.nested(*item.as_table(), "rule");
        rr.read("dir", rule.dir);
        rr.read("pattern", rule.pattern);
        rr.read_duration("older_than", rule.older_than);
        rr.reject_unknown();
        if (rule.dir.empty() || rule.pattern.empty()) r.fail(item, "rule", "needs both 'dir' and 'pattern'");
        c.cleanup.rules.push_back(rule);
      }
    }
    r.reject_unknown();
  }
  if (auto* t = root.sub_table("scale")) {
    auto r = root.nested(*t, "scale");
    r.read("min_workers", c.scale.min_workers, 0, 1000);
    r.read("max_workers", c.scale.max_workers, 0, 1000);
    r.read("tasks_per_worker", c.scale.tasks_per_worker, 1, 1'000'000);
    r.read("load_threshold", c.scale.load_threshold, 0.0, 10000.0);
    r.read_duration("load_window", c.scale.load_window);
    r.read("memory_available_min_percent", c.scale.memory_available_min_percent, 0, 100);
    r.read("memory_pressure_psi_some_avg10", c.scale.memory_pressure_psi_some_avg10, 0.0, 100.0);
    read_enum(r, "manager", c.scale.manager,
              std::array<std::pair<const char*, std::string>, 2>{{{"systemd", "systemd"}, {"none", "none"}}});
    r.read("unit", c.scale.unit);
    r.reject_unknown();
    if (c.scale.min_workers > c.scale.max_workers)
      root.fail(*t, "scale.min_workers", "must not exceed scale.max_workers");
  }
  if (auto* t = root.sub_table("search")) {
    auto r = root.nested(*t, "search");
    read_search(r, c.search);
    r.reject_unknown();
  }
  if (auto* t = root.sub_table("metrics")) {
    auto r = root.nested(*t, "metrics");
    r.read("textfile_dir", c.metrics.textfile_dir);
    r.reject_unknown();
  }
  root.reject_unknown();
}

}  // namespace

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
  TableReader root(table, "", config.source);
  read_sections(root, config);
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
  auto text = util::read_file(path);
  if (!text) throw Error(ExitCode::config, "config: " + text.error());
  return parse_config(*text, path);
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
