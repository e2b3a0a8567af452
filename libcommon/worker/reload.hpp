// What a reload of the worker's configuration changes (SIGHUP, `systemctl reload oos-worker@N`): the handlers
// take effect for the next task claimed (a running task finishes with the handler it started with); every other
// setting the worker reads is kept as it was until the worker restarts. Pure: two configurations in, a plan out.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config.hpp"

namespace oos::worker {

using Handlers = std::map<std::string, config::HandlerConfig>;

struct ReloadPlan {
  Handlers handlers;                       // what the next tasks run with
  std::vector<std::string> added;          // handler types new in the file
  std::vector<std::string> changed;        // handler types whose table changed
  std::vector<std::string> removed;        // handler types gone from the file (their tasks fail: no handler)
  std::vector<std::string> needs_restart;  // what changed but is kept until a restart: "[db]", "worker.queues", ...

  // True when the next task runs with other handlers than before.
  bool changes_handlers() const { return !added.empty() || !changed.empty() || !removed.empty(); }
};

// The plan for moving a worker that runs with `running` to the file just read, `next`. Only the sections the
// worker reads count ([paths], [db], [log], [queue], [queues], [breaker], [worker], [search], [metrics] and the
// handlers); the other tools' sections are not the worker's business. [handlers.search] appearing or
// disappearing is kept until a restart too: whether the built-in `search` type runs is chosen at start. The
// lists are sorted by name.
ReloadPlan plan_reload(const config::Config& running, const config::Config& next);

// One line for the log: "handler 'a' added, handler 'b' changed" or "no handler changed".
std::string describe_handler_changes(const ReloadPlan& plan);

// The settings the plan keeps until a restart, for the log: "[db], worker.queues"; "" when there is none.
std::string describe_restart_changes(const ReloadPlan& plan);

}  // namespace oos::worker
