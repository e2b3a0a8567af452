// What the search client does next with one provider, as a pure function of what just happened: ask the quota
// ledger, send a request, wait, take a key of the provider's key ring or put the one in use in cooldown, or give up
// on the provider with a reason and what its breaker records. The executor (client.cpp) performs the decisions over
// the database, the key rings, an injected http_get and the injected Clock; the table tests (unit.search_decision)
// cover every row.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "policy/quota.hpp"
#include "search/provider.hpp"
#include "util/duration.hpp"

namespace oos::search {

// Why a search failed, for the exit code (docs/reference.md section 3) and the worker's verdict.
enum class SearchFailure {
  bad_request,     // 65: the query was refused as malformed; dead-letter
  not_configured,  // 78: no provider has its keys; dead-letter until the config is fixed
  rate_limited,    // 75: a provider would answer after a wait longer than --max-wait; try again
  quota,           // 69: every usable provider's quota is spent; temporary for a task
  permanent,       // 69: every usable provider refuses us for good (PERMISSION_DENIED, bad key); dead-letter
  unavailable,     // 69: breakers open, network down, errors: retry later
};

// Requests sent to one provider for transient errors and Retry-After waits, before moving on. Pacing waits are
// not requests: they do not count.
inline constexpr int k_attempts_per_provider = 3;
// Backoff between requests to one provider after a transient error: 1 s, then 2 s, with 20% jitter.
inline constexpr std::array<std::int64_t, 2> k_backoff_seconds{1, 2};
inline constexpr double k_backoff_jitter = 0.2;
// Below this much of the search's budget a provider is not asked (no quota spent, no breaker failure).
inline constexpr util::Millis k_least_request_time{200};
// How long a key of a ring that was rate limited without a Retry-After cools down: a minute, the window of the
// providers' per-minute limits (docs/decisions.md, key rings for search).
inline constexpr util::Millis k_key_rate_limit_cooldown{60'000};

enum class Action {
  ask_quota,     // count one request in the ledger (the reply is the next event)
  send,          // send the request (a failure is the next event)
  wait,          // sleep `wait`, then start over with Ready
  give_up,       // move on to the next provider
  refuse_query,  // the query itself was refused: the whole search fails (bad_request)
  pick_key,      // take the ring's least recently used key not cooling down (the reply: Ready or KeysCooling)
  next_key,      // put the key in use in cooldown (`cool_key`), then start over with Ready: another key is taken
};

// What the provider's breaker records when the executor leaves it.
enum class Outcome { success, failure, neutral };

// How long a key of a ring that the provider refused stays out of it.
struct KeyCooldown {
  util::Millis length{0};    // from now
  bool until_reset = false;  // instead: until the provider's quota day ends (its day spent for this key)
};

struct Decision {
  Action action = Action::send;
  util::Millis wait{0};                                // Action::wait
  SearchFailure failure = SearchFailure::unavailable;  // give_up, refuse_query
  std::string reason;                                  // give_up, refuse_query: one line
  Outcome outcome = Outcome::neutral;                  // give_up, refuse_query
  bool spent_day = false;                              // give_up: store the provider's day as spent
  std::optional<KeyCooldown> cool_key = std::nullopt;  // next_key, give_up: the ring's key in use cools down
};

// Where the search stands with this provider.
struct Attempt {
  int sent = 0;                  // requests sent to it in this search; the failure being decided is the last
  bool probing = false;          // this search holds its half-open probe: one request, no retry
  std::int64_t daily_quota = 0;  // its configured quota, for the messages (0: unlimited)
  double jitter_draw = 0.0;      // uniform in [0, 1), shortens a backoff by up to k_backoff_jitter
  int ring_keys = 0;             // the keys of its ring when its key comes from one; 0: a single key
  bool key_in_hand = false;      // with a ring: a key is taken (pick_key) and not yet put in cooldown
};

// What is left of the search's limits.
struct Limits {
  util::Millis wait_left{0};              // --max-wait minus the waits so far
  std::optional<util::Millis> time_left;  // the budget minus the time spent; nullopt: no budget
};

// Every key of the provider's ring cools down (the reply to pick_key when none is free).
struct KeysCooling {
  std::string ring;                // the ring's secret, BRAVE_SEARCH_API_KEYS
  util::UnixMillis until = 0;      // when its first key is back
  util::Millis wait{0};            // `until` from now
  util::UnixMillis resets_at = 0;  // when the provider's quota day ends: a cooldown to then is a spent day
  std::string last;                // why this search put its last key in cooldown; empty: it put none
};

// The events: about to ask the ledger (first, or after a wait); the ledger's verdict; a failed request; no key of
// the ring free.
struct Ready {};
using Event = std::variant<Ready, policy::QuotaDecision, ProviderFailure, KeysCooling>;

// The next step after `event`. A wait is chosen only when it fits both limits; otherwise the provider is given
// up with the reason the wait was needed. With a ring (attempt.ring_keys > 0), a request goes out only with a key in
// hand, and a rate limited or spent key gives way to the next one rather than a wait (docs/reference.md section 17):
// at most one request per key and k_attempts_per_provider - 1 more in one search. When every key cools down, the
// wait for the first fits the limits only within the k_attempts_per_provider requests.
Decision decide(const Attempt& attempt, const Event& event, const Limits& limits);

}  // namespace oos::search
