#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

#include "worker/notify.hpp"

using namespace oos;
using oos::worker::watchdog_interval;
using oos::worker::WatchdogPinger;

namespace {

// Keeps what would have gone to systemd.
struct RecordingNotifier final : worker::Notifier {
  std::vector<std::string> sent;
  void notify(const std::string& state) override { sent.push_back(state); }
};

struct IntervalCase {
  const char* usec;
  std::optional<std::string> pid;  // nullopt: $WATCHDOG_PID unset
  std::optional<std::int64_t> expected_ms;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(notify)

BOOST_AUTO_TEST_CASE(watchdog_interval_is_half_of_watchdog_usec_for_this_process_only) {
  const pid_t self = 4242;
  const std::vector<IntervalCase> cases{
      {nullptr, std::nullopt, std::nullopt},
      {"", std::nullopt, std::nullopt},
      {"0", std::nullopt, std::nullopt},
      {"abc", std::nullopt, std::nullopt},
      {"12x", std::nullopt, std::nullopt},
      {"-30000000", std::nullopt, std::nullopt},
      {" 30000000", std::nullopt, std::nullopt},
      {"30000000", std::nullopt, 15'000},
      {"30000000", "", 15'000},  // set but empty: as if unset
      {"30000000", "4242", 15'000},
      {"30000000", "4243", std::nullopt},  // meant for another process (a parent that exec'd us)
      {"30000000", "42x", std::nullopt},
      {"30000000", "abc", std::nullopt},
      {"abc", "4242", std::nullopt},
      {"1000", std::nullopt, 1},  // half of 1 ms rounds down to 0; never an interval of 0
      {"3000", std::nullopt, 1},
      {"4000", std::nullopt, 2},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("WATCHDOG_USEC " << (c.usec ? c.usec : "(unset)") << ", WATCHDOG_PID "
                                        << c.pid.value_or("(unset)")) {
      auto interval = watchdog_interval(c.usec, c.pid ? c.pid->c_str() : nullptr, self);
      BOOST_TEST(interval.has_value() == c.expected_ms.has_value());
      if (interval && c.expected_ms) BOOST_TEST(interval->count() == *c.expected_ms);
    }
  }
}

BOOST_AUTO_TEST_CASE(watchdog_interval_accepts_the_real_own_pid) {
  auto own = std::to_string(::getpid());
  auto interval = watchdog_interval("2000000", own.c_str(), ::getpid());
  BOOST_REQUIRE(interval.has_value());
  BOOST_TEST(interval->count() == 1000);
  auto parent = std::to_string(::getppid());
  BOOST_TEST(!watchdog_interval("2000000", parent.c_str(), ::getpid()).has_value());
}

BOOST_AUTO_TEST_CASE(without_an_interval_the_pinger_never_pings) {
  RecordingNotifier notifier;
  WatchdogPinger pinger(notifier, std::nullopt);
  for (double now : {0.0, 0.1, 1.0, 100.0, 1e6}) pinger.progressed(now);
  BOOST_TEST(notifier.sent.empty());
}

BOOST_AUTO_TEST_CASE(the_pinger_pings_at_once_then_at_most_once_per_interval) {
  RecordingNotifier notifier;
  WatchdogPinger pinger(notifier, util::Millis(200));
  struct Tick {
    double now;
    bool pings;
  };
  const std::vector<Tick> ticks{
      {0.0, true},     // the first progress pings at once
      {0.1, false},    // 100 ms later: too soon
      {0.199, false},  // still within the interval
      {0.25, true},    // 250 ms after the last ping
      {0.3, false},    // measured from the last ping (0.25), not from the first one
      {0.5, true},     //
      {10.0, true},    // a long idle gap: one ping, not a burst
      {10.01, false},
  };
  std::size_t expected = 0;
  for (const auto& t : ticks) {
    BOOST_TEST_CONTEXT("progressed(" << t.now << ")") {
      pinger.progressed(t.now);
      if (t.pings) ++expected;
      BOOST_TEST(notifier.sent.size() == expected);
    }
  }
  for (const auto& sent : notifier.sent) BOOST_TEST(sent == "WATCHDOG=1");
}

BOOST_AUTO_TEST_CASE(the_pinger_works_at_real_monotonic_times) {
  // The loop passes util::monotonic_seconds(), which may be small (just after boot) or large.
  for (double base : {0.001, 12345.678, 1e9}) {
    BOOST_TEST_CONTEXT("base " << base) {
      RecordingNotifier notifier;
      WatchdogPinger pinger(notifier, util::Millis(15'000));
      pinger.progressed(base);
      pinger.progressed(base + 14.0);
      pinger.progressed(base + 15.5);
      BOOST_TEST(notifier.sent.size() == 2u);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
