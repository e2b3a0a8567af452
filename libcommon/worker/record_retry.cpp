#include "worker/record_retry.hpp"

#include <algorithm>
#include <cmath>

namespace oos::worker {

double record_deadline(const RecordFailures& failures) {
  double deadline = std::min(failures.lease_until, failures.first_failed + failures.lease_seconds);
  if (failures.stop_deadline) deadline = std::min(deadline, *failures.stop_deadline);
  return deadline;
}

RecordRetry plan_record_retry(const RecordFailures& failures, double now) {
  double deadline = record_deadline(failures);
  if (now >= deadline) return {true, now};
  double first = static_cast<double>(k_record_retry_first.count()) / 1000.0;
  double most = static_cast<double>(k_record_retry_max.count()) / 1000.0;
  int doublings = std::clamp(failures.failures - 1, 0, 30);
  double wait = std::min(first * std::ldexp(1.0, doublings), most);
  return {false, std::min(now + wait, deadline)};
}

}  // namespace oos::worker
