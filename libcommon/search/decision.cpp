#include "search/decision.hpp"

#include <fmt/format.h>

#include "policy/backoff.hpp"
#include "util/time.hpp"

namespace oos::search {
namespace {

bool fits(util::Millis wait, const Limits& limits) {
  return wait <= limits.wait_left && (!limits.time_left || wait < *limits.time_left);
}

Decision go(Action action) {
  Decision d;
  d.action = action;
  return d;
}

Decision pause(util::Millis wait) {
  Decision d;
  d.action = Action::wait;
  d.wait = wait;
  return d;
}

Decision give_up(SearchFailure failure, std::string reason, Outcome outcome, bool spent_day = false) {
  return {Action::give_up, util::Millis(0), failure, std::move(reason), outcome, spent_day, std::nullopt};
}

Decision on_ready(const Attempt& attempt, const Limits& limits) {
  if (limits.time_left && *limits.time_left < k_least_request_time)
    return give_up(SearchFailure::unavailable, "not asked: no time left of the search's budget", Outcome::neutral);
  if (attempt.ring_keys > 0 && !attempt.key_in_hand) return go(Action::pick_key);
  return go(Action::ask_quota);
}

// A key of a ring rate limited or spent: it cools down (for the Retry-After when there is one, else a minute
// after a rate limit, or until the quota day ends after a spent day: docs/decisions.md) and the next key is asked,
// at most one request per key and k_attempts_per_provider - 1 more in one search. The provider's own day is not
// marked spent: its other keys may still have theirs. Also during a probe: neither counts in the breaker.
Decision on_key_refused(const Attempt& attempt, const ProviderFailure& failure) {
  bool spent = failure.problem == Problem::quota_exhausted;
  KeyCooldown cool = failure.retry_after ? KeyCooldown{*failure.retry_after, false}
                     : spent             ? KeyCooldown{util::Millis(0), true}
                                         : KeyCooldown{k_key_rate_limit_cooldown, false};
  auto why = spent ? SearchFailure::quota : SearchFailure::rate_limited;
  if (attempt.sent < attempt.ring_keys + k_attempts_per_provider - 1) {
    auto d = go(Action::next_key);
    d.failure = why;
    d.reason = failure.message;
    d.cool_key = cool;
    return d;
  }
  auto d = give_up(why, fmt::format("{}; {} requests with the ring's keys", failure.message, attempt.sent),
                   Outcome::neutral);
  d.cool_key = cool;
  return d;
}

// Every key of the ring cools down: the first is waited for as a Retry-After is (within the limits and the
// attempts), else the provider is given up, as spent when the keys cool down past its quota day.
Decision on_keys_cooling(const Attempt& attempt, const KeysCooling& cooling, const Limits& limits) {
  if (attempt.sent < k_attempts_per_provider && !attempt.probing && fits(cooling.wait, limits))
    return pause(cooling.wait);
  auto reason =
      fmt::format("every key of ring {} cools down until {}", cooling.ring, util::format_iso8601(cooling.until));
  if (!cooling.last.empty()) reason += "; the last: " + cooling.last;
  return give_up(cooling.until >= cooling.resets_at ? SearchFailure::quota : SearchFailure::rate_limited,
                 std::move(reason), Outcome::neutral);
}

Decision on_quota(const Attempt& attempt, const policy::QuotaDecision& quota, const Limits& limits) {
  switch (quota.verdict) {
    case policy::QuotaVerdict::allowed: return go(Action::send);
    case policy::QuotaVerdict::spent: {
      auto until = util::format_iso8601(quota.resets_at);
      return give_up(SearchFailure::quota,
                     quota.ledger.exhausted
                         ? fmt::format("the provider said its daily quota is spent; not asked again until {}", until)
                         : fmt::format("daily quota of {} spent until {}", attempt.daily_quota, until),
                     Outcome::neutral);
    }
    case policy::QuotaVerdict::paced:
      if (fits(quota.wait, limits)) return pause(quota.wait);
      return give_up(SearchFailure::rate_limited,
                     fmt::format("paced to {} requests a day: next request in {}", attempt.daily_quota,
                                 util::format_duration(quota.wait)),
                     Outcome::neutral);
  }
  return go(Action::send);
}

Decision on_failure(const Attempt& attempt, const ProviderFailure& failure, const Limits& limits) {
  // A probe gets one request: its failure re-opens the breaker.
  bool may_retry = attempt.sent < k_attempts_per_provider && !attempt.probing;
  if (attempt.ring_keys > 0 &&
      (failure.problem == Problem::rate_limited || failure.problem == Problem::quota_exhausted))
    return on_key_refused(attempt, failure);
  switch (failure.problem) {
    case Problem::bad_request: {
      auto d = give_up(SearchFailure::bad_request, failure.message, Outcome::neutral);
      d.action = Action::refuse_query;
      return d;
    }
    case Problem::quota_exhausted:
      return give_up(SearchFailure::quota, failure.message, Outcome::neutral, /*spent_day=*/true);
    case Problem::permanent: return give_up(SearchFailure::permanent, failure.message, Outcome::failure);
    case Problem::rate_limited: {
      if (may_retry && failure.retry_after && fits(*failure.retry_after, limits)) return pause(*failure.retry_after);
      auto why =
          !failure.retry_after ? std::string()
          : !may_retry
              ? fmt::format("; still limited after {} request{}", attempt.sent, attempt.sent == 1 ? "" : "s")
              : fmt::format("; Retry-After {} is beyond --max-wait", util::format_duration(*failure.retry_after));
      return give_up(SearchFailure::rate_limited, failure.message + why, Outcome::neutral);
    }
    case Problem::transient: {
      auto delay = failure.retry_after.value_or(
          policy::retry_delay(attempt.sent, k_backoff_seconds, k_backoff_jitter, attempt.jitter_draw));
      if (may_retry && fits(delay, limits)) return pause(delay);
      // One failed search is one breaker failure, however many requests it made.
      return give_up(SearchFailure::unavailable, failure.message, Outcome::failure);
    }
  }
  return give_up(SearchFailure::unavailable, failure.message, Outcome::failure);
}

}  // namespace

Decision decide(const Attempt& attempt, const Event& event, const Limits& limits) {
  if (std::holds_alternative<Ready>(event)) return on_ready(attempt, limits);
  if (const auto* quota = std::get_if<policy::QuotaDecision>(&event)) return on_quota(attempt, *quota, limits);
  if (const auto* cooling = std::get_if<KeysCooling>(&event)) return on_keys_cooling(attempt, *cooling, limits);
  return on_failure(attempt, std::get<ProviderFailure>(event), limits);
}

}  // namespace oos::search
