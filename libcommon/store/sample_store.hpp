// The `samples` table: one observation of a host and the queues per oos-scale run, kept so that a condition "for
// the whole load window" holds across separate oneshot runs (docs/reference.md section 18). An interface with two
// implementations: SqliteSampleStore (the state directory's file: every sample is this host's) and
// pg::PgSampleStore (the shared database: the samples of this host only, keyed by its name).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "policy/scaling.hpp"
#include "util/time.hpp"

namespace oos::store {

// A sample is plain data the scaling policy reads, so it is defined with the policy.
using policy::Sample;

class SampleStore {
 public:
  virtual ~SampleStore() = default;

  // Appends `sample`, in a write transaction of its own.
  virtual void record(const Sample& sample) = 0;

  // The samples taken at or after `from`, oldest first.
  virtual std::vector<Sample> since(util::UnixMillis from) = 0;

  // The newest sample taken at or before `at`; nullopt when there is none.
  virtual std::optional<Sample> latest_before(util::UnixMillis at) = 0;

  // Deletes the samples taken before `older_than`, in a write transaction of its own; returns how many.
  virtual std::int64_t prune(util::UnixMillis older_than) = 0;

  // What decide_scale() needs for a window that starts at `from` (now - load_window): the newest sample at or
  // before `from` (when there is one), then every later sample, oldest first.
  std::vector<Sample> history(util::UnixMillis from);
};

}  // namespace oos::store
