#include "worker/reload.hpp"

namespace oos::worker {
namespace {

// The restart-only settings of `running` and `next` that differ, by the name an operator looks for.
std::vector<std::string> restart_only_changes(const config::Config& running, const config::Config& next) {
  std::vector<std::string> changed;
  auto note = [&](bool differs, const char* name) {
    if (differs) changed.emplace_back(name);
  };
  note(running.state_dir != next.state_dir, "paths.state_dir");
  note(running.db != next.db, "[db]");
  note(running.log != next.log, "[log]");
  note(running.queue != next.queue, "[queue]");
  note(running.queues != next.queues, "[queues]");
  note(running.breaker != next.breaker, "[breaker]");
  note(running.worker.queues != next.worker.queues, "worker.queues");
  note(running.worker.poll_interval != next.worker.poll_interval, "worker.poll_interval");
  note(running.worker.shutdown_grace != next.worker.shutdown_grace, "worker.shutdown_grace");
  note(running.worker.metrics_interval != next.worker.metrics_interval, "worker.metrics_interval");
  note(running.search != next.search, "[search]");
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
    else if (old->second != handler)
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
