// A periodic tool's run (a backup, an integrity check, a cleanup) as a job: a "<job>.failed" event when it
// fails, and, when metrics.textfile_dir is set, oos_<job>.prom with when it last ran, how long it took,
// how it ended, when it last succeeded and how many runs succeeded and failed (docs/reference.md section 13).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "app/context.hpp"
#include "metrics/exposition.hpp"
#include "store/event_log.hpp"

namespace oos::app {

struct Job {
  std::string_view name;  // "backup": metrics oos_backup_*, failure event "backup.failed"
  // The event a successful run records, e.g. "backup.created". Empty for a job that runs too often to leave
  // an event each time (oos-scale, every minute): no run counters then, no failure events, and the last
  // success time only when this run succeeded.
  std::string_view success_event;
  std::vector<int> success_codes{0};  // the exit codes that count as success
  // Whether a failure is recorded as an event. Never when SQLite found the database corrupt: a damaged
  // file is left as it is for oos-integrity.
  bool record_failures = true;
  // On a database that several hosts share (PostgreSQL): this host's name. The failure event is then about
  // host_object(host) instead of the job's name, and the history counts only the job's events about it (the tool
  // records its success events about it too), so each host's metrics tell its own runs. Empty: every event of the
  // state database is this host's.
  std::string host{};
};

// The object of a host's job events on a shared database: "host/NAME".
inline std::string host_object(std::string_view host) {
  return "host/" + std::string(host);
}

// Runs `body`, which returns the exit code and may add metrics of its own. An exception is rethrown
// after the event and the metrics are written; neither of those can make the run fail (they are logged).
int run_job(Context& context, const Job& job, const std::function<int(metrics::Exposition&)>& body);

// The same for a tool that holds the state database open through a store::Backend (SQLite or PostgreSQL): the
// failure event and the history are written to and read from `events` instead of a connection opened for them.
int run_job(Context& context, store::EventLog& events, const Job& job,
            const std::function<int(metrics::Exposition&)>& body);

}  // namespace oos::app
