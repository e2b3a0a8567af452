// The circuit breaker of docs/reference.md section 7 as pure transitions over a plain record.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config.hpp"
#include "util/time.hpp"

namespace oos::policy {

enum class BreakerState { closed, open, half_open };

std::string_view to_string(BreakerState state);
std::optional<BreakerState> parse_breaker_state(std::string_view text);

// A breaker's persisted state. half_open means a probe is running: nothing else may pass.
struct BreakerRecord {
  BreakerState state = BreakerState::closed;
  int consecutive_failures = 0;
  util::UnixMillis opened_at = 0;  // when it last opened
  std::int64_t cooldown_ms = 0;    // current cooldown; doubles on each re-open
  bool operator==(const BreakerRecord&) const = default;
};

// A closed breaker with the configured base cooldown.
BreakerRecord closed_breaker(const config::BreakerSettings& settings);

enum class Admission {
  allow,  // closed: run normally
  probe,  // open and cooled down: run one probe (the caller moves it to half_open)
  deny,   // open and cooling down, or a probe already running
};

// Whether work may pass at `now`.
Admission admit(const BreakerRecord& breaker, util::UnixMillis now);

// The record once a probe is admitted.
BreakerRecord start_probe(BreakerRecord breaker);

// After a successful run: closed, failure count and cooldown reset.
BreakerRecord on_success(const BreakerRecord& breaker, const config::BreakerSettings& settings);

// After a failed run: counts it; the threshold-th consecutive failure opens a closed breaker with the
// base cooldown; a failed probe re-opens it with the cooldown doubled (capped at max_cooldown).
BreakerRecord on_failure(const BreakerRecord& breaker, const config::BreakerSettings& settings, util::UnixMillis now);

// After a run that neither succeeded nor failed for the breaker (EX_TEMPFAIL): a probe's slot is given
// back (open, already cooled down, so the next claim may probe again); otherwise nothing changes.
BreakerRecord on_neutral(const BreakerRecord& breaker);

// The time at which an open breaker admits a probe.
inline util::UnixMillis probe_at(const BreakerRecord& breaker) {
  return breaker.opened_at + breaker.cooldown_ms;
}

}  // namespace oos::policy
