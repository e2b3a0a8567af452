// The samples that the sample store suites record and read back (sample_store on SQLite, pg_sample_store on
// PostgreSQL).
#pragma once

#include <cstdint>
#include <vector>

#include "policy/scaling.hpp"
#include "util/time.hpp"

namespace oos::test {

// A sample taken at `at` with 1-minute load `load` and `runnable` runnable tasks, 42.5% of memory available, no PSI.
inline policy::Sample sample(util::UnixMillis at, double load, std::int64_t runnable = 0) {
  policy::Sample s;
  s.at = at;
  s.load1 = load;
  s.memory_available_percent = 42.5;
  s.runnable = runnable;
  return s;
}

// The 1-minute loads of `samples`, in their order.
inline std::vector<double> loads(const std::vector<policy::Sample>& samples) {
  std::vector<double> out;
  for (const auto& s : samples) out.push_back(s.load1);
  return out;
}

}  // namespace oos::test
