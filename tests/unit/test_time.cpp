#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "util/time.hpp"

using namespace oos::util;

// The suite's namespace would clash with ::time() at global scope.
namespace oos_unit {

BOOST_AUTO_TEST_SUITE(time)

struct IsoCase {
  UnixMillis time;
  std::string expected;
};

BOOST_AUTO_TEST_CASE(format_iso8601_prints_utc_and_omits_zero_milliseconds) {
  const std::vector<IsoCase> cases{
      {0, "1970-01-01T00:00:00Z"},
      {1, "1970-01-01T00:00:00.001Z"},
      {999, "1970-01-01T00:00:00.999Z"},
      {1000, "1970-01-01T00:00:01Z"},
      {1'764'333'495'123, "2025-11-28T12:38:15.123Z"},
      {1'764'333'495'000, "2025-11-28T12:38:15Z"},
      {1'764'333'495'050, "2025-11-28T12:38:15.050Z"},  // milliseconds keep their leading zero
      {951'782'400'000, "2000-02-29T00:00:00Z"},        // a leap day
      {4'102'444'799'000, "2099-12-31T23:59:59Z"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("time " << c.time) {
      BOOST_TEST(format_iso8601(c.time) == c.expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(format_iso8601_counts_negative_times_backwards_from_the_epoch) {
  const std::vector<IsoCase> cases{
      {-1, "1969-12-31T23:59:59.999Z"},
      {-1000, "1969-12-31T23:59:59Z"},
      {-1500, "1969-12-31T23:59:58.500Z"},
      {-86'400'000, "1969-12-31T00:00:00Z"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("time " << c.time) {
      BOOST_TEST(format_iso8601(c.time) == c.expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(manual_clock_moves_only_when_told) {
  ManualClock clock(1'000);
  const Clock& as_clock = clock;
  BOOST_TEST(as_clock.now() == 1'000);
  BOOST_TEST(as_clock.now() == 1'000);
  clock.advance(250);
  BOOST_TEST(as_clock.now() == 1'250);
  clock.advance(-50);
  BOOST_TEST(as_clock.now() == 1'200);
  clock.set(42);
  BOOST_TEST(as_clock.now() == 42);
}

BOOST_AUTO_TEST_CASE(system_clock_reads_the_current_wall_time_in_milliseconds) {
  // 2024-01-01 and 2100-01-01: a value outside means the unit or the epoch is wrong.
  auto now = SystemClock().now();
  BOOST_TEST(now > 1'704'067'200'000);
  BOOST_TEST(now < 4'102'444'800'000);
}

BOOST_AUTO_TEST_CASE(monotonic_seconds_never_goes_backwards) {
  auto first = monotonic_seconds();
  auto second = monotonic_seconds();
  BOOST_TEST(first > 0.0);
  BOOST_TEST(second >= first);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace oos_unit
