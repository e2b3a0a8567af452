// What a worker does when the outcome of a finished run cannot be written (disk full, I/O error, a read-only
// file system): a pure decision over plain values. The worker keeps the result in memory, keeps renewing the
// lease while it can, and tries again with a growing wait until the lease would be lost, at most one lease
// period after the first failure (and no later than the end of the shutdown grace once a stop is asked);
// then it gives up and exits 74. Past that bound another worker may reclaim the task and run it again.
#pragma once

#include <optional>

#include "util/duration.hpp"

namespace oos::worker {

// The first wait before writing an outcome again; it doubles after each failure up to k_record_retry_max.
inline constexpr util::Millis k_record_retry_first{500};
inline constexpr util::Millis k_record_retry_max{10'000};

// The failed writes of one outcome so far; times are monotonic seconds, like the worker's deadlines.
struct RecordFailures {
  double first_failed = 0;              // the first write that failed
  int failures = 0;                     // failed writes, at least 1
  double lease_until = 0;               // when the task's lease expires as last renewed
  double lease_seconds = 0;             // the queue's lease period
  std::optional<double> stop_deadline;  // the end of the shutdown grace, once a stop was asked
};

// Try again at `retry_at`, or give up (`give_up`: the write that just failed was the last one).
struct RecordRetry {
  bool give_up = false;
  double retry_at = 0;
};

// The deadline of the retries: the earliest of lease_until, first_failed + lease_seconds and stop_deadline.
double record_deadline(const RecordFailures& failures);

// After a failed write at `now`: give up once the deadline has passed, otherwise try again after the
// backoff (k_record_retry_first doubled per earlier failure, at most k_record_retry_max), and at the
// deadline at the latest, so that the last try falls on it.
RecordRetry plan_record_retry(const RecordFailures& failures, double now);

}  // namespace oos::worker
