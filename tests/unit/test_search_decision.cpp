// search/decision: what the client does next with a provider, for every kind of event.
#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>
#include <vector>

#include "search/decision.hpp"

using namespace oos;
using search::Action;
using search::Outcome;
using search::Problem;
using search::SearchFailure;

namespace oos::search {
inline std::ostream& operator<<(std::ostream& out, Action a) {
  const char* names[] = {"ask_quota", "send", "wait", "give_up", "refuse_query", "pick_key", "next_key"};
  return out << names[static_cast<int>(a)];
}
inline std::ostream& operator<<(std::ostream& out, Outcome o) {
  const char* names[] = {"success", "failure", "neutral"};
  return out << names[static_cast<int>(o)];
}
inline std::ostream& operator<<(std::ostream& out, SearchFailure f) {
  const char* names[] = {"bad_request", "not_configured", "rate_limited", "quota", "permanent", "unavailable"};
  return out << names[static_cast<int>(f)];
}
}  // namespace oos::search

BOOST_AUTO_TEST_SUITE(search_decision)

namespace {

using util::Millis;

// 2026-12-07T08:00:00Z, midnight in California: when a spent day ends.
constexpr util::UnixMillis k_reset = 1'796'630'400'000;

policy::QuotaDecision quota(policy::QuotaVerdict verdict, Millis wait = Millis(0), bool exhausted = false) {
  policy::QuotaDecision d;
  d.verdict = verdict;
  d.wait = wait;
  d.resets_at = k_reset;
  d.ledger.exhausted = exhausted;
  return d;
}

search::ProviderFailure failed(Problem problem, std::optional<Millis> retry_after = std::nullopt) {
  return {problem, "HTTP 5xx: what the provider said", retry_after};
}

search::Attempt sent(int n, bool probing = false, double jitter_draw = 0.0) {
  return {n, probing, 100, jitter_draw};
}

const search::Limits k_roomy{Millis(30'000), std::nullopt};

search::Limits budget(Millis time_left, Millis wait_left = Millis(30'000)) {
  return {wait_left, time_left};
}

struct Row {
  std::string name;
  search::Attempt attempt;
  search::Event event;
  search::Limits limits;
  Action action;
  Millis wait{0};
  SearchFailure failure = SearchFailure::unavailable;
  Outcome outcome = Outcome::neutral;
  bool spent_day = false;
  std::string reason;  // the reason, when the decision gives one
};

// A row whose step is ask_quota, send or wait.
Row step(std::string name, search::Attempt attempt, search::Event event, search::Limits limits, Action action,
         Millis wait = Millis(0)) {
  return {std::move(name), attempt, std::move(event),           limits,
          action,          wait,    SearchFailure::unavailable, Outcome::neutral,
          false,           ""};
}

// A row whose step leaves the provider (give_up, refuse_query).
Row leave(std::string name, search::Attempt attempt, search::Event event, search::Limits limits, Action action,
          SearchFailure failure, Outcome outcome, bool spent_day, std::string reason) {
  return {std::move(name), attempt, std::move(event), limits,    action,
          Millis(0),       failure, outcome,          spent_day, std::move(reason)};
}

}  // namespace

BOOST_AUTO_TEST_CASE(each_event_leads_to_one_step) {
  using V = policy::QuotaVerdict;
  using A = Action;
  using F = SearchFailure;
  using O = Outcome;
  const std::vector<Row> rows{
      // Before asking the ledger: the budget decides.
      step("ready", sent(0), search::Ready{}, k_roomy, A::ask_quota),
      step("ready, budget enough for a request", sent(0), search::Ready{}, budget(Millis(200)), A::ask_quota),
      leave("ready, budget too short", sent(0), search::Ready{}, budget(Millis(199)), A::give_up, F::unavailable,
            O::neutral, false, "not asked: no time left of the search's budget"),
      // The ledger's verdict.
      step("allowed", sent(0), quota(V::allowed), k_roomy, A::send),
      leave("spent by our count", sent(0), quota(V::spent), k_roomy, A::give_up, F::quota, O::neutral, false,
            "daily quota of 100 spent until 2026-12-07T08:00:00Z"),
      leave("spent, the provider said so", sent(0), quota(V::spent, Millis(0), true), k_roomy, A::give_up, F::quota,
            O::neutral, false,
            "the provider said its daily quota is spent; not asked again until 2026-12-07T08:00:00Z"),
      step("paced within --max-wait", sent(0), quota(V::paced, Millis(10'000)), k_roomy, A::wait, Millis(10'000)),
      step("paced with exactly --max-wait left", sent(1), quota(V::paced, Millis(10'000)),
           budget(Millis(60'000), Millis(10'000)), A::wait, Millis(10'000)),
      leave("paced beyond --max-wait", sent(0), quota(V::paced, Millis(10'000)), budget(Millis(60'000), Millis(9'999)),
            A::give_up, F::rate_limited, O::neutral, false, "paced to 100 requests a day: next request in 10s"),
      leave("paced beyond the budget", sent(0), quota(V::paced, Millis(10'000)), budget(Millis(10'000)), A::give_up,
            F::rate_limited, O::neutral, false, "paced to 100 requests a day: next request in 10s"),
      // A failed request.
      leave("bad request", sent(1), failed(Problem::bad_request), k_roomy, A::refuse_query, F::bad_request, O::neutral,
            false, "HTTP 5xx: what the provider said"),
      leave("the provider's day is spent", sent(1), failed(Problem::quota_exhausted), k_roomy, A::give_up, F::quota,
            O::neutral, true, "HTTP 5xx: what the provider said"),
      leave("refused for good", sent(1), failed(Problem::permanent), k_roomy, A::give_up, F::permanent, O::failure,
            false, "HTTP 5xx: what the provider said"),
      leave("rate limited without Retry-After", sent(1), failed(Problem::rate_limited), k_roomy, A::give_up,
            F::rate_limited, O::neutral, false, "HTTP 5xx: what the provider said"),
      step("rate limited, Retry-After within --max-wait", sent(1), failed(Problem::rate_limited, Millis(2'000)),
           k_roomy, A::wait, Millis(2'000)),
      leave("rate limited on the last attempt", sent(3), failed(Problem::rate_limited, Millis(2'000)), k_roomy,
            A::give_up, F::rate_limited, O::neutral, false,
            "HTTP 5xx: what the provider said; still limited after 3 requests"),
      leave("rate limited, Retry-After beyond --max-wait", sent(1), failed(Problem::rate_limited, Millis(60'000)),
            budget(Millis(600'000), Millis(10'000)), A::give_up, F::rate_limited, O::neutral, false,
            "HTTP 5xx: what the provider said; Retry-After 1m is beyond --max-wait"),
      leave("rate limited while probing", sent(1, true), failed(Problem::rate_limited, Millis(2'000)), k_roomy,
            A::give_up, F::rate_limited, O::neutral, false,
            "HTTP 5xx: what the provider said; still limited after 1 request"),
      step("transient after the first request: 1 s", sent(1), failed(Problem::transient), k_roomy, A::wait,
           Millis(1'000)),
      step("transient after the second: 2 s", sent(2), failed(Problem::transient), k_roomy, A::wait, Millis(2'000)),
      step("transient, jitter shortens the backoff", sent(1, false, 0.5), failed(Problem::transient), k_roomy, A::wait,
           Millis(900)),
      step("transient with Retry-After", sent(1), failed(Problem::transient, Millis(5'000)), k_roomy, A::wait,
           Millis(5'000)),
      leave("transient after the last attempt", sent(3), failed(Problem::transient), k_roomy, A::give_up,
            F::unavailable, O::failure, false, "HTTP 5xx: what the provider said"),
      leave("transient while probing", sent(1, true), failed(Problem::transient), k_roomy, A::give_up, F::unavailable,
            O::failure, false, "HTTP 5xx: what the provider said"),
      leave("transient, no --max-wait left", sent(1), failed(Problem::transient), budget(Millis(60'000), Millis(0)),
            A::give_up, F::unavailable, O::failure, false, "HTTP 5xx: what the provider said"),
      leave("transient, the backoff would use up the budget", sent(1), failed(Problem::transient),
            budget(Millis(1'000)), A::give_up, F::unavailable, O::failure, false, "HTTP 5xx: what the provider said"),
  };
  for (const auto& row : rows) {
    BOOST_TEST_CONTEXT(row.name) {
      auto d = search::decide(row.attempt, row.event, row.limits);
      BOOST_TEST(d.action == row.action);
      if (row.action == Action::wait) BOOST_TEST(d.wait.count() == row.wait.count());
      if (row.action == Action::give_up || row.action == Action::refuse_query) {
        BOOST_TEST(d.failure == row.failure);
        BOOST_TEST(d.outcome == row.outcome);
        BOOST_TEST(d.spent_day == row.spent_day);
        BOOST_TEST(d.reason == row.reason);
      }
    }
  }
}

namespace {

// An attempt with a key of a ring of `keys` keys in hand (or, `in_hand` false, about to take one).
search::Attempt ring(int n, int keys = 3, bool in_hand = true, bool probing = false) {
  return {n, probing, 100, 0.0, keys, in_hand};
}

// Every key of BRAVE_SEARCH_API_KEYS back in `wait`, at 12:00 + wait; the quota day ends at k_reset.
search::KeysCooling cooling(Millis wait, std::string last = "") {
  constexpr util::UnixMillis k_noon = 1'796'558'400'000;
  return {"BRAVE_SEARCH_API_KEYS", k_noon + wait.count(), wait, k_reset, std::move(last)};
}

struct RingRow {
  std::string name;
  search::Attempt attempt;
  search::Event event;
  search::Limits limits;
  Action action;
  std::optional<search::KeyCooldown> cool_key;
  Millis wait{0};                                      // wait
  SearchFailure failure = SearchFailure::unavailable;  // give_up
  std::string reason;                                  // give_up
};

// A row whose step stays with the provider (pick_key, ask_quota, next_key, wait).
RingRow stay(std::string name, search::Attempt attempt, search::Event event, Action action,
             std::optional<search::KeyCooldown> cool_key = std::nullopt, Millis wait = Millis(0)) {
  return {std::move(name), attempt, std::move(event), k_roomy, action, cool_key, wait, SearchFailure::unavailable, ""};
}

// A row that gives the provider up.
RingRow off(std::string name, search::Attempt attempt, search::Event event, search::Limits limits,
            SearchFailure failure, std::string reason, std::optional<search::KeyCooldown> cool_key = std::nullopt) {
  return {std::move(name), attempt,   std::move(event), limits,           Action::give_up,
          cool_key,        Millis(0), failure,          std::move(reason)};
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_ring_key_refused_gives_way_to_the_next_key) {
  using A = Action;
  using F = SearchFailure;
  using C = search::KeyCooldown;
  const std::string said = "HTTP 5xx: what the provider said";
  const std::vector<RingRow> rows{
      stay("ready without a key", ring(0, 3, false), search::Ready{}, A::pick_key),
      stay("ready with a key", ring(0), search::Ready{}, A::ask_quota),
      off("ready, budget too short", ring(0, 3, false), search::Ready{}, budget(Millis(199)), F::unavailable,
          "not asked: no time left of the search's budget"),
      stay("rate limited: a minute", ring(1), failed(Problem::rate_limited), A::next_key, C{Millis(60'000), false}),
      stay("rate limited with Retry-After beyond --max-wait", ring(1), failed(Problem::rate_limited, Millis(120'000)),
           A::next_key, C{Millis(120'000), false}),
      stay("rate limited while probing", ring(1, 3, true, true), failed(Problem::rate_limited), A::next_key,
           C{Millis(60'000), false}),
      stay("day spent: until it ends", ring(1), failed(Problem::quota_exhausted), A::next_key, C{Millis(0), true}),
      stay("day spent with Retry-After", ring(1), failed(Problem::quota_exhausted, Millis(3'600'000)), A::next_key,
           C{Millis(3'600'000), false}),
      stay("the last request a ring of 3 allows", ring(4), failed(Problem::rate_limited), A::next_key,
           C{Millis(60'000), false}),
      off("past the requests a ring of 3 allows", ring(5), failed(Problem::rate_limited), k_roomy, F::rate_limited,
          said + "; 5 requests with the ring's keys", C{Millis(60'000), false}),
      off("a spent day past them", ring(5), failed(Problem::quota_exhausted), k_roomy, F::quota,
          said + "; 5 requests with the ring's keys", C{Millis(0), true}),
      off("refused for good: the provider, not the key", ring(1), failed(Problem::permanent), k_roomy, F::permanent,
          said),
      stay("transient: the same key again", ring(1), failed(Problem::transient), A::wait, std::nullopt, Millis(1'000)),
      stay("every key cooling, back within --max-wait", ring(2, 2, false), cooling(Millis(2'000)), A::wait,
           std::nullopt, Millis(2'000)),
      off("every key cooling beyond --max-wait", ring(2, 2, false), cooling(Millis(60'000), "HTTP 429: RATE_LIMITED"),
          k_roomy, F::rate_limited,
          "every key of ring BRAVE_SEARCH_API_KEYS cools down until 2026-12-06T12:01:00Z; the last: HTTP 429: "
          "RATE_LIMITED"),
      off("every key cooling after the attempts", ring(3, 3, false), cooling(Millis(2'000)), k_roomy, F::rate_limited,
          "every key of ring BRAVE_SEARCH_API_KEYS cools down until 2026-12-06T12:00:02Z"),
      off("every key cooling while probing", ring(0, 2, false, true), cooling(Millis(2'000)), k_roomy, F::rate_limited,
          "every key of ring BRAVE_SEARCH_API_KEYS cools down until 2026-12-06T12:00:02Z"),
      off("every key spent until the day ends", ring(0, 2, false), cooling(Millis(72'000'000)), k_roomy, F::quota,
          "every key of ring BRAVE_SEARCH_API_KEYS cools down until 2026-12-07T08:00:00Z"),
  };
  for (const auto& row : rows) {
    BOOST_TEST_CONTEXT(row.name) {
      auto d = search::decide(row.attempt, row.event, row.limits);
      BOOST_TEST(d.action == row.action);
      BOOST_TEST(d.cool_key.has_value() == row.cool_key.has_value());
      if (d.cool_key && row.cool_key) {
        BOOST_TEST(d.cool_key->length.count() == row.cool_key->length.count());
        BOOST_TEST(d.cool_key->until_reset == row.cool_key->until_reset);
      }
      if (row.action == Action::wait) BOOST_TEST(d.wait.count() == row.wait.count());
      if (row.action == Action::give_up) {
        BOOST_TEST(d.failure == row.failure);
        BOOST_TEST(d.outcome == (row.failure == F::permanent ? Outcome::failure : Outcome::neutral));
        BOOST_TEST(!d.spent_day);  // a ring's spent key never marks the provider's day
        BOOST_TEST(d.reason == row.reason);
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
