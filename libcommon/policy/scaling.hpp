// How many workers should run (docs/reference.md section 18), as a pure function of the settings, the
// queue depth and the recent samples of the host's load and memory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "util/time.hpp"

namespace oos::policy {

// One observation of the host and the queues, one row of the `samples` table (oos-scale takes one per run).
// Defined here rather than in scale/ because policies include nothing above config and util; scale/ makes
// it available as oos::scale::Sample.
struct Sample {
  util::UnixMillis at = 0;
  double load1 = 0;                       // 1-minute load average
  double memory_available_percent = 100;  // MemAvailable / MemTotal
  std::optional<double> psi_some_avg10;   // memory pressure; nullopt on kernels without PSI
  std::int64_t runnable = 0;              // runnable pending tasks of all queues
};

struct ScaleInput {
  int current_workers = 0;      // instances running now
  std::int64_t runnable = 0;    // runnable pending tasks of all queues
  std::vector<Sample> history;  // oldest first, including the newest sample (taken now)
  util::UnixMillis now = 0;
};

struct ScaleDecision {
  int desired = 0;                   // within [min_workers, max_workers]
  std::vector<std::string> reasons;  // one line per rule that applied, in the order applied
  bool throttled = false;            // the load stayed above scale.load_threshold for the whole load_window
  bool memory_pressure = false;      // too little memory available, or too much pressure (PSI): the running
                                     // workers should also release memory (SIGUSR1)
};

// The rules, in order:
// 1. Queue depth: ceil(runnable / tasks_per_worker), clamped to [min_workers, max_workers].
// 2. Sustained load: the load counts as sustained when the history holds a sample taken at or before
//    now - load_window (the anchor: the newest such sample), and the anchor and every later sample up to now
//    have load1 above load_threshold. No sample that old (a gap, or the scaler just started) is never
//    sustained; samples between two readings are not guessed at (the 1-minute load average already
//    smooths what happened in between). Then: no scale-up, and one fewer than current_workers.
// 3. Memory pressure: the newest sample has memory_available_percent below memory_available_min_percent, or
//    psi_some_avg10 above memory_pressure_psi_some_avg10. Then: no scale-up, one fewer than current_workers,
//    and the workers release memory.
// With 2 or 3 (or both: still one step), desired = min(rule 1, current_workers - 1). Whatever applied,
// desired stays within [min_workers, max_workers], so a current count above max_workers comes down to it.
ScaleDecision decide_scale(const config::ScaleSettings& settings, const ScaleInput& input);

}  // namespace oos::policy
