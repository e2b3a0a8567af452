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
  const char* names[] = {"ask_quota", "send", "wait", "give_up", "refuse_query"};
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

BOOST_AUTO_TEST_SUITE_END()
