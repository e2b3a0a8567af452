#include "policy/breaker.hpp"

#include <algorithm>

namespace oos::policy {

std::string_view to_string(BreakerState state) {
  switch (state) {
    case BreakerState::closed: return "closed";
    case BreakerState::open: return "open";
    case BreakerState::half_open: return "half_open";
  }
  return "closed";
}

std::optional<BreakerState> parse_breaker_state(std::string_view text) {
  if (text == "closed") return BreakerState::closed;
  if (text == "open") return BreakerState::open;
  if (text == "half_open") return BreakerState::half_open;
  return std::nullopt;
}

BreakerRecord closed_breaker(const config::BreakerSettings& settings) {
  return {BreakerState::closed, 0, 0, settings.cooldown.count()};
}

Admission admit(const BreakerRecord& breaker, util::UnixMillis now) {
  switch (breaker.state) {
    case BreakerState::closed: return Admission::allow;
    case BreakerState::half_open: return Admission::deny;
    case BreakerState::open: return now >= probe_at(breaker) ? Admission::probe : Admission::deny;
  }
  return Admission::deny;
}

BreakerRecord start_probe(BreakerRecord breaker) {
  breaker.state = BreakerState::half_open;
  return breaker;
}

BreakerRecord on_success(const BreakerRecord&, const config::BreakerSettings& settings) {
  return closed_breaker(settings);
}

BreakerRecord on_failure(const BreakerRecord& breaker, const config::BreakerSettings& settings, util::UnixMillis now) {
  BreakerRecord next = breaker;
  next.consecutive_failures += 1;
  switch (breaker.state) {
    case BreakerState::closed:
      if (next.consecutive_failures >= settings.failure_threshold) {
        next.state = BreakerState::open;
        next.opened_at = now;
        next.cooldown_ms = settings.cooldown.count();
      }
      break;
    case BreakerState::half_open:
      next.state = BreakerState::open;
      next.opened_at = now;
      next.cooldown_ms = std::min(breaker.cooldown_ms * 2, settings.max_cooldown.count());
      break;
    case BreakerState::open:
      // A run that started before the breaker opened and failed afterwards: counted, no new cooldown.
      break;
  }
  return next;
}

BreakerRecord on_neutral(const BreakerRecord& breaker) {
  BreakerRecord next = breaker;
  if (breaker.state == BreakerState::half_open) next.state = BreakerState::open;
  return next;
}

}  // namespace oos::policy
