#include "worker/reload.hpp"

#include <algorithm>
#include <tuple>

namespace oos::worker {
namespace {

// Field by field (config.hpp's structs declare no operator==). A field added there must be added here, else a
// change to it goes unnoticed by a reload (test_reload checks each field).
bool same(const config::DbSettings& a, const config::DbSettings& b) {
  return std::tie(a.synchronous, a.busy_timeout, a.url, a.listen, a.transaction_warning, a.clock_skew_warning) ==
         std::tie(b.synchronous, b.busy_timeout, b.url, b.listen, b.transaction_warning, b.clock_skew_warning);
}

bool same(const config::LogSettings& a, const config::LogSettings& b) {
  return std::tie(a.level, a.format, a.file, a.max_size, a.max_files) ==
         std::tie(b.level, b.format, b.file, b.max_size, b.max_files);
}

bool same(const config::QueueSettings& a, const config::QueueSettings& b) {
  return std::tie(a.max_attempts, a.backoff_seconds, a.backoff_jitter, a.lease, a.depth_alert, a.dead_retention,
                  a.succeeded_retention, a.max_payload) == std::tie(b.max_attempts, b.backoff_seconds, b.backoff_jitter,
                                                                    b.lease, b.depth_alert, b.dead_retention,
                                                                    b.succeeded_retention, b.max_payload);
}

bool same(const config::BreakerSettings& a, const config::BreakerSettings& b) {
  return std::tie(a.failure_threshold, a.cooldown, a.max_cooldown) ==
         std::tie(b.failure_threshold, b.cooldown, b.max_cooldown);
}

bool same(const config::HandlerConfig& a, const config::HandlerConfig& b) {
  return std::tie(a.command, a.timeout, a.env_keys, a.pass_env, a.env, a.permanent_exit_codes) ==
         std::tie(b.command, b.timeout, b.env_keys, b.pass_env, b.env, b.permanent_exit_codes);
}

bool same(const config::SearchProvider& a, const config::SearchProvider& b) {
  return std::tie(a.endpoint, a.daily_quota, a.burst, a.timeout, a.connect_timeout) ==
         std::tie(b.endpoint, b.daily_quota, b.burst, b.timeout, b.connect_timeout);
}

// Two tables by name ([queues.NAME], [search.provider.NAME]): the same names, each with the same settings.
template <typename Settings>
bool same(const std::map<std::string, Settings>& a, const std::map<std::string, Settings>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const auto& x, const auto& y) { return x.first == y.first && same(x.second, y.second); });
}

bool same(const config::SearchSettings& a, const config::SearchSettings& b) {
  return std::tie(a.providers, a.cache_ttl, a.max_wait) == std::tie(b.providers, b.cache_ttl, b.max_wait) &&
         same(a.provider, b.provider);
}

// The restart-only settings of `running` and `next` that differ, by the name an operator looks for.
std::vector<std::string> restart_only_changes(const config::Config& running, const config::Config& next) {
  std::vector<std::string> changed;
  auto note = [&](bool differs, const char* name) {
    if (differs) changed.emplace_back(name);
  };
  note(running.state_dir != next.state_dir, "paths.state_dir");
  note(!same(running.db, next.db), "[db]");
  note(!same(running.log, next.log), "[log]");
  note(!same(running.queue, next.queue), "[queue]");
  note(!same(running.queues, next.queues), "[queues]");
  note(!same(running.breaker, next.breaker), "[breaker]");
  note(running.worker.queues != next.worker.queues, "worker.queues");
  note(running.worker.poll_interval != next.worker.poll_interval, "worker.poll_interval");
  note(running.worker.shutdown_grace != next.worker.shutdown_grace, "worker.shutdown_grace");
  note(running.worker.metrics_interval != next.worker.metrics_interval, "worker.metrics_interval");
  note(!same(running.search, next.search), "[search]");
  note(running.metrics.textfile_dir != next.metrics.textfile_dir, "[metrics]");
  return changed;
}

}  // namespace

ReloadPlan plan_reload(const config::Config& running, const config::Config& next) {
  ReloadPlan plan;
  plan.handlers = next.handlers;
  plan.needs_restart = restart_only_changes(running, next);
  // The built-in `search` type is registered at start unless a handler of that name exists: its appearance or
  // disappearance waits for a restart, and the next tasks keep what runs now.
  if (running.handlers.contains("search") != next.handlers.contains("search")) {
    plan.needs_restart.emplace_back("[handlers.search]");
    if (auto it = running.handlers.find("search"); it != running.handlers.end())
      plan.handlers.insert_or_assign("search", it->second);
    else
      plan.handlers.erase("search");
  }
  for (const auto& [type, handler] : plan.handlers) {
    auto old = running.handlers.find(type);
    if (old == running.handlers.end())
      plan.added.push_back(type);
    else if (!same(old->second, handler))
      plan.changed.push_back(type);
  }
  for (const auto& [type, handler] : running.handlers)
    if (!plan.handlers.contains(type)) plan.removed.push_back(type);
  return plan;
}

std::string describe_handler_changes(const ReloadPlan& plan) {
  std::string text;
  auto list = [&](const std::vector<std::string>& types, const char* what) {
    for (const auto& type : types) text += (text.empty() ? "" : ", ") + ("handler '" + type + "' " + what);
  };
  list(plan.added, "added");
  list(plan.changed, "changed");
  list(plan.removed, "removed");
  return text.empty() ? "no handler changed" : text;
}

std::string describe_restart_changes(const ReloadPlan& plan) {
  std::string text;
  for (const auto& what : plan.needs_restart) text += (text.empty() ? "" : ", ") + what;
  return text;
}

}  // namespace oos::worker
