#include "policy/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace oos::policy {

util::Millis retry_delay(int attempt, std::span<const std::int64_t> backoff_seconds, double jitter,
                         double random_fraction) {
  if (backoff_seconds.empty()) return util::Millis(0);
  auto index = static_cast<std::size_t>(
      std::clamp<std::int64_t>(attempt, 1, static_cast<std::int64_t>(backoff_seconds.size())) - 1);
  auto base_ms = static_cast<double>(backoff_seconds[index]) * 1000.0;
  double shortening = std::clamp(jitter, 0.0, 1.0) * std::clamp(random_fraction, 0.0, 1.0);
  return util::Millis(static_cast<std::int64_t>(std::llround(base_ms * (1.0 - shortening))));
}

AfterFailure after_failure(FailureKind kind, int attempts, int max_attempts) {
  if (kind == FailureKind::permanent) return AfterFailure::dead;
  return attempts >= max_attempts ? AfterFailure::dead : AfterFailure::retry;
}

}  // namespace oos::policy
