// A periodic tool's run (a backup, an integrity check, a cleanup) as a job: a "<job>.failed" event when it
// fails, and, when metrics.textfile_dir is set, oos_<job>.prom with when it last ran, how long it took,
// how it ended, when it last succeeded and how many runs succeeded and failed (docs/reference.md section 13).
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "app/context.hpp"
#include "metrics/exposition.hpp"

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
};

// Runs `body`, which returns the exit code and may add metrics of its own. An exception is rethrown
// after the event and the metrics are written; neither of those can make the run fail (they are logged).
int run_job(Context& context, const Job& job, const std::function<int(metrics::Exposition&)>& body);

}  // namespace oos::app
