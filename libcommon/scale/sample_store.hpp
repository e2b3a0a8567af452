// The `samples` table: one observation of the host and the queues per oos-scale run, kept so that a
// condition "for the whole load window" holds across separate oneshot runs (docs/reference.md section 18).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "db/database.hpp"
#include "policy/scaling.hpp"
#include "util/time.hpp"

namespace oos::scale {

// A sample is plain data the scaling policy reads, so it is defined with the policy.
using policy::Sample;

class SampleStore {
 public:
  explicit SampleStore(db::Database& db) : m_db(db) {}

  // Appends `sample`, in a write transaction of its own.
  void record(const Sample& sample);

  // The samples taken at or after `from`, oldest first.
  std::vector<Sample> since(util::UnixMillis from);

  // The newest sample taken at or before `at`; nullopt when there is none.
  std::optional<Sample> latest_before(util::UnixMillis at);

  // What decide_scale() needs for a window that starts at `from` (now - load_window): the newest sample at or
  // before `from` (when there is one), then every later sample, oldest first.
  std::vector<Sample> history(util::UnixMillis from);

  // Deletes the samples taken before `older_than`, in a write transaction of its own; returns how many.
  std::int64_t prune(util::UnixMillis older_than);

 private:
  db::Database& m_db;
};

}  // namespace oos::scale
