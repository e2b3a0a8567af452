// The retry policy of docs/reference.md section 5 as pure functions.
#pragma once

#include <cstdint>
#include <span>

#include "util/duration.hpp"

namespace oos::policy {

// Delay before retrying after failed attempt `attempt` (1-based): backoff_seconds[min(attempt, len) - 1]
// seconds, shortened by jitter * random_fraction of itself. `random_fraction` is in [0, 1) (pass 0 for
// the exact delay); `jitter` in [0, 1]. An empty table means retry at once.
util::Millis retry_delay(int attempt, std::span<const std::int64_t> backoff_seconds, double jitter,
                         double random_fraction);

// What happens to a task after a failed attempt.
enum class FailureKind {
  retryable,  // non-zero exit, signal, timeout, lost lease: retry while attempts remain
  temporary,  // EX_TEMPFAIL (75): retry while attempts remain; not a breaker failure
  permanent,  // a permanent exit code or no handler: dead at once
};

enum class AfterFailure { retry, dead };

// Retry or dead-letter after `attempts` attempts of at most `max_attempts`.
AfterFailure after_failure(FailureKind kind, int attempts, int max_attempts);

}  // namespace oos::policy
