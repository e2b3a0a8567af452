#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "policy/breaker.hpp"

using namespace oos::policy;
using oos::config::BreakerSettings;
using oos::util::Millis;

namespace {

BreakerSettings settings_of(int threshold, std::int64_t cooldown_ms, std::int64_t max_cooldown_ms) {
  BreakerSettings s;
  s.failure_threshold = threshold;
  s.cooldown = Millis(cooldown_ms);
  s.max_cooldown = Millis(max_cooldown_ms);
  return s;
}

BreakerRecord fail_times(BreakerRecord r, const BreakerSettings& s, int times, std::int64_t now) {
  for (int i = 0; i < times; ++i) r = on_failure(r, s, now);
  return r;
}

std::string name(Admission a) {
  switch (a) {
    case Admission::allow: return "allow";
    case Admission::probe: return "probe";
    case Admission::deny: return "deny";
  }
  return "?";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(breaker)

BOOST_AUTO_TEST_CASE(the_default_settings_match_the_design) {
  const BreakerSettings s;
  BOOST_TEST(s.failure_threshold == 10);
  BOOST_TEST(s.cooldown.count() == 60'000);
  BOOST_TEST(s.max_cooldown.count() == 3'600'000);
}

BOOST_AUTO_TEST_CASE(a_new_breaker_is_closed_with_no_failures_and_the_base_cooldown) {
  auto r = closed_breaker(settings_of(3, 5'000, 40'000));
  BOOST_TEST((r.state == BreakerState::closed));
  BOOST_TEST(r.consecutive_failures == 0);
  BOOST_TEST(r.opened_at == 0);
  BOOST_TEST(r.cooldown_ms == 5'000);
}

struct ThresholdCase {
  int threshold;
  int failures;
  BreakerState expected;
};

BOOST_AUTO_TEST_CASE(the_threshold_th_consecutive_failure_opens_a_closed_breaker) {
  const std::vector<ThresholdCase> cases{
      {10, 1, BreakerState::closed}, {10, 9, BreakerState::closed}, {10, 10, BreakerState::open},
      {10, 11, BreakerState::open},  {1, 1, BreakerState::open},    {3, 2, BreakerState::closed},
      {3, 3, BreakerState::open},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("threshold " << c.threshold << " failures " << c.failures) {
      auto s = settings_of(c.threshold, 60'000, 3'600'000);
      auto r = fail_times(closed_breaker(s), s, c.failures, 5'000);
      BOOST_TEST((r.state == c.expected));
      BOOST_TEST(r.consecutive_failures == c.failures);
    }
  }
}

BOOST_AUTO_TEST_CASE(default_settings_open_on_the_tenth_failure_with_a_60s_cooldown_from_now) {
  const BreakerSettings s;
  auto r = fail_times(closed_breaker(s), s, 9, 1'000);
  BOOST_TEST((r.state == BreakerState::closed));
  r = on_failure(r, s, 7'000);
  BOOST_TEST((r.state == BreakerState::open));
  BOOST_TEST(r.opened_at == 7'000);
  BOOST_TEST(r.cooldown_ms == 60'000);
  BOOST_TEST(probe_at(r) == 67'000);
}

BOOST_AUTO_TEST_CASE(a_success_resets_the_consecutive_failure_count) {
  const BreakerSettings s;
  auto r = fail_times(closed_breaker(s), s, 9, 1'000);
  r = on_success(r, s);
  BOOST_TEST(r.consecutive_failures == 0);
  r = fail_times(r, s, 9, 2'000);
  BOOST_TEST((r.state == BreakerState::closed));
  BOOST_TEST(r.consecutive_failures == 9);
}

struct AdmitCase {
  BreakerRecord record;
  std::int64_t now;
  Admission expected;
};

BOOST_AUTO_TEST_CASE(admit_allows_when_closed_denies_while_cooling_down_and_probes_after) {
  const BreakerRecord closed{BreakerState::closed, 3, 0, 60'000};
  const BreakerRecord open{BreakerState::open, 10, 100'000, 60'000};
  const BreakerRecord probing{BreakerState::half_open, 10, 100'000, 60'000};
  const std::vector<AdmitCase> cases{
      {closed, 0, Admission::allow},       {closed, 1'000'000, Admission::allow},
      {open, 100'000, Admission::deny},     // just opened
      {open, 159'999, Admission::deny},     // 1 ms before the cooldown ends
      {open, 160'000, Admission::probe},    // exactly cooled down
      {open, 5'000'000, Admission::probe},  // long after
      {open, 50'000, Admission::deny},      // a clock behind the opening time
      {probing, 100'000, Admission::deny},  // a probe is running: nothing else passes
      {probing, 160'000, Admission::deny}, {probing, 9'000'000, Admission::deny},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("state " << to_string(c.record.state) << " now " << c.now) {
      auto got = admit(c.record, c.now);
      BOOST_TEST(name(got) == name(c.expected));
    }
  }
}

BOOST_AUTO_TEST_CASE(start_probe_moves_to_half_open_and_keeps_everything_else) {
  const BreakerRecord open{BreakerState::open, 12, 100'000, 120'000};
  auto r = start_probe(open);
  BOOST_TEST((r.state == BreakerState::half_open));
  BOOST_TEST(r.consecutive_failures == 12);
  BOOST_TEST(r.opened_at == 100'000);
  BOOST_TEST(r.cooldown_ms == 120'000);
  BOOST_TEST(name(admit(r, 220'000)) == "deny");
}

BOOST_AUTO_TEST_CASE(a_successful_probe_closes_the_breaker_and_resets_the_cooldown) {
  const auto s = settings_of(10, 60'000, 3'600'000);
  const BreakerRecord probing{BreakerState::half_open, 14, 500'000, 480'000};
  auto r = on_success(probing, s);
  BOOST_TEST((r == BreakerRecord{BreakerState::closed, 0, 0, 60'000}));
  BOOST_TEST(name(admit(r, 500'001)) == "allow");
}

struct ReopenCase {
  int cycle;
  std::int64_t expected_cooldown_ms;
};

BOOST_AUTO_TEST_CASE(each_failed_probe_reopens_with_the_cooldown_doubled_up_to_max_cooldown) {
  const BreakerSettings s;  // 60 s doubling up to 1 h
  const std::vector<ReopenCase> cases{
      {1, 120'000},   {2, 240'000}, {3, 480'000}, {4, 960'000}, {5, 1'920'000}, {6, 3'600'000},  // 3840 s capped at 1 h
      {7, 3'600'000},                                                                            // and stays there
      {8, 3'600'000},
  };
  std::int64_t now = 1'000;
  auto r = fail_times(closed_breaker(s), s, 10, now);
  BOOST_TEST_REQUIRE(r.cooldown_ms == 60'000);
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("failed probe " << c.cycle) {
      now = probe_at(r);
      BOOST_TEST_REQUIRE(name(admit(r, now)) == "probe");
      r = on_failure(start_probe(r), s, now + 500);
      BOOST_TEST((r.state == BreakerState::open));
      BOOST_TEST(r.opened_at == now + 500);
      BOOST_TEST(r.cooldown_ms == c.expected_cooldown_ms);
      BOOST_TEST(name(admit(r, now + 500 + c.expected_cooldown_ms - 1)) == "deny");
    }
  }
}

BOOST_AUTO_TEST_CASE(the_cap_applies_even_when_max_cooldown_is_not_a_power_of_two_multiple) {
  const auto s = settings_of(2, 10'000, 35'000);
  auto r = fail_times(closed_breaker(s), s, 2, 0);
  std::vector<std::int64_t> cooldowns;
  for (int i = 0; i < 4; ++i) {
    r = on_failure(start_probe(r), s, probe_at(r));
    cooldowns.push_back(r.cooldown_ms);
  }
  BOOST_TEST((cooldowns == std::vector<std::int64_t>{20'000, 35'000, 35'000, 35'000}));
}

BOOST_AUTO_TEST_CASE(a_success_after_doublings_starts_again_from_the_base_cooldown) {
  const BreakerSettings s;
  auto r = fail_times(closed_breaker(s), s, 10, 0);
  for (int i = 0; i < 3; ++i) r = on_failure(start_probe(r), s, probe_at(r));
  BOOST_TEST_REQUIRE(r.cooldown_ms == 480'000);
  r = on_success(start_probe(r), s);
  r = fail_times(r, s, 10, 10'000'000);
  BOOST_TEST((r.state == BreakerState::open));
  BOOST_TEST(r.cooldown_ms == 60'000);
  BOOST_TEST(r.opened_at == 10'000'000);
}

BOOST_AUTO_TEST_CASE(a_failure_while_open_is_counted_without_restarting_the_cooldown) {
  const BreakerSettings s;
  const BreakerRecord open{BreakerState::open, 10, 100'000, 60'000};
  auto r = on_failure(open, s, 130'000);
  BOOST_TEST((r == BreakerRecord{BreakerState::open, 11, 100'000, 60'000}));
}

struct NeutralCase {
  BreakerRecord before;
  BreakerRecord expected;
};

BOOST_AUTO_TEST_CASE(on_neutral_gives_the_probe_slot_back_and_changes_nothing_else) {
  const std::vector<NeutralCase> cases{
      {{BreakerState::half_open, 10, 100'000, 60'000}, {BreakerState::open, 10, 100'000, 60'000}},
      {{BreakerState::open, 10, 100'000, 60'000}, {BreakerState::open, 10, 100'000, 60'000}},
      {{BreakerState::closed, 4, 0, 60'000}, {BreakerState::closed, 4, 0, 60'000}},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("from " << to_string(c.before.state)) {
      BOOST_TEST((on_neutral(c.before) == c.expected));
    }
  }
}

BOOST_AUTO_TEST_CASE(after_a_neutral_probe_the_next_claim_may_probe_at_once) {
  const BreakerRecord open{BreakerState::open, 10, 100'000, 60'000};
  auto probing = start_probe(open);
  auto r = on_neutral(probing);
  BOOST_TEST(name(admit(r, 160'001)) == "probe");
}

BOOST_AUTO_TEST_CASE(breaker_states_round_trip_through_their_names) {
  for (auto state : {BreakerState::closed, BreakerState::open, BreakerState::half_open}) {
    auto parsed = parse_breaker_state(to_string(state));
    BOOST_TEST_REQUIRE(parsed.has_value());
    BOOST_TEST((*parsed == state));
  }
  BOOST_TEST(to_string(BreakerState::half_open) == "half_open");
  BOOST_TEST(!parse_breaker_state("half-open").has_value());
  BOOST_TEST(!parse_breaker_state("OPEN").has_value());
  BOOST_TEST(!parse_breaker_state("").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
