// policy/quota: quota days in UTC and US Pacific time (daylight saving included), resets, pacing.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "policy/quota.hpp"
#include "support/printers.hpp"

using namespace oos;
using policy::QuotaVerdict;
using policy::QuotaZone;

BOOST_AUTO_TEST_SUITE(quota)

namespace {

constexpr std::int64_t k_hour = 3'600'000;

// Unix milliseconds of a UTC date and hour, for dates after 2000.
util::UnixMillis utc(int y, int m, int d, int h = 0) {
  // days from civil, as in the code under test but written out independently with a loop
  std::int64_t days = 0;
  for (int year = 1970; year < y; ++year) days += (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 366 : 365;
  static const int k_month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  for (int month = 1; month < m; ++month)
    days += k_month_days[month - 1] + (month == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 1 : 0);
  days += d - 1;
  return days * 24 * k_hour + h * k_hour;
}

}  // namespace

BOOST_AUTO_TEST_CASE(pacific_time_follows_daylight_saving) {
  struct Case {
    util::UnixMillis at;
    int offset_hours;
  };
  const std::vector<Case> cases{
      {utc(2026, 1, 15, 12), -8},
      {utc(2026, 7, 1, 12), -7},
      // 2026: daylight saving from Sunday 8 March 10:00 UTC to Sunday 1 November 09:00 UTC
      {utc(2026, 3, 8, 10) - 1, -8},
      {utc(2026, 3, 8, 10), -7},
      {utc(2026, 11, 1, 9) - 1, -7},
      {utc(2026, 11, 1, 9), -8},
      // 2027: 14 March and 7 November
      {utc(2027, 3, 14, 10), -7},
      {utc(2027, 3, 13, 10), -8},
      {utc(2027, 11, 7, 8), -7},
      {utc(2027, 11, 7, 9), -8},
  };
  for (const auto& c : cases) BOOST_TEST_CONTEXT(c.at) {
      BOOST_TEST(policy::us_pacific_offset(c.at).count() == c.offset_hours * k_hour);
    }
}

BOOST_AUTO_TEST_CASE(the_quota_day_and_its_reset_depend_on_the_zone) {
  auto evening_in_california = utc(2026, 11, 29, 5);  // 21:00 PST on the 28th
  BOOST_TEST(policy::quota_day(evening_in_california, QuotaZone::utc) == "2026-11-29");
  BOOST_TEST(policy::quota_day(evening_in_california, QuotaZone::us_pacific) == "2026-11-28");
  BOOST_TEST(policy::next_quota_reset(evening_in_california, QuotaZone::us_pacific) == utc(2026, 11, 29, 8));
  BOOST_TEST(policy::next_quota_reset(evening_in_california, QuotaZone::utc) == utc(2026, 11, 30));
  BOOST_TEST(policy::next_quota_reset(utc(2026, 7, 1, 12), QuotaZone::us_pacific) == utc(2026, 7, 2, 7));
  // The night the clocks go forward: midnight PST on the 8th is 08:00 UTC, the next midnight (PDT) 07:00 UTC.
  BOOST_TEST(policy::next_quota_reset(utc(2026, 3, 8, 9), QuotaZone::us_pacific) == utc(2026, 3, 9, 7));
  BOOST_TEST(policy::quota_day(utc(2026, 12, 31, 23), QuotaZone::utc) == "2026-12-31");
  BOOST_TEST(policy::quota_day(utc(2027, 1, 1, 7), QuotaZone::us_pacific) == "2026-12-31");
}

BOOST_AUTO_TEST_CASE(a_burst_goes_out_at_once_then_requests_are_paced) {
  policy::QuotaSettings settings{8640, 3};  // one request per 10 s on average
  auto now = utc(2026, 11, 28, 12);
  auto ledger = policy::new_ledger(settings, now, QuotaZone::utc);
  for (int i = 0; i < 3; ++i) {
    auto d = policy::admit_request(ledger, settings, now, QuotaZone::utc);
    BOOST_TEST_REQUIRE(d.verdict == QuotaVerdict::allowed);
    ledger = d.ledger;
  }
  BOOST_TEST(ledger.used == 3);
  auto paced = policy::admit_request(ledger, settings, now, QuotaZone::utc);
  BOOST_TEST(paced.verdict == QuotaVerdict::paced);
  BOOST_TEST((paced.wait.count() >= 10'000 && paced.wait.count() <= 10'001), paced.wait.count());
  BOOST_TEST(policy::admit_request(paced.ledger, settings, now + 9'000, QuotaZone::utc).verdict == QuotaVerdict::paced);
  auto later = policy::admit_request(paced.ledger, settings, now + paced.wait.count(), QuotaZone::utc);
  BOOST_TEST(later.verdict == QuotaVerdict::allowed);
  BOOST_TEST(later.ledger.used == 4);
}

BOOST_AUTO_TEST_CASE(a_spent_quota_waits_for_the_next_day) {
  policy::QuotaSettings settings{2, 10};
  auto now = utc(2026, 11, 28, 12);
  auto ledger = policy::new_ledger(settings, now, QuotaZone::utc);
  ledger.used = 2;
  auto spent = policy::admit_request(ledger, settings, now, QuotaZone::utc);
  BOOST_TEST(spent.verdict == QuotaVerdict::spent);
  BOOST_TEST(spent.resets_at == utc(2026, 11, 29));
  auto tomorrow = policy::admit_request(spent.ledger, settings, utc(2026, 11, 29, 0), QuotaZone::utc);
  BOOST_TEST(tomorrow.verdict == QuotaVerdict::allowed);
  BOOST_TEST(tomorrow.ledger.used == 1);
  BOOST_TEST(tomorrow.ledger.day == "2026-11-29");

  ledger = policy::new_ledger(settings, now, QuotaZone::utc);
  ledger.exhausted = true;  // the provider said so before our count did
  BOOST_TEST(policy::admit_request(ledger, settings, now, QuotaZone::utc).verdict == QuotaVerdict::spent);
}

BOOST_AUTO_TEST_CASE(an_unlimited_provider_is_counted_and_never_paced) {
  policy::QuotaSettings settings{0, 1};
  auto now = utc(2026, 11, 28, 12);
  auto ledger = policy::new_ledger(settings, now, QuotaZone::utc);
  for (int i = 0; i < 50; ++i) {
    auto d = policy::admit_request(ledger, settings, now, QuotaZone::utc);
    BOOST_TEST_REQUIRE(d.verdict == QuotaVerdict::allowed);
    ledger = d.ledger;
  }
  BOOST_TEST(ledger.used == 50);
}

BOOST_AUTO_TEST_CASE(an_unlimited_provider_that_said_its_day_is_spent_is_not_asked_until_the_next_day) {
  policy::QuotaSettings settings{0, 10};
  auto now = utc(2026, 11, 28, 12);
  auto ledger = policy::new_ledger(settings, now, QuotaZone::us_pacific);
  ledger.exhausted = true;  // Google's 429 "Queries per day"
  auto spent = policy::admit_request(ledger, settings, now + 3 * k_hour, QuotaZone::us_pacific);
  BOOST_TEST(spent.verdict == QuotaVerdict::spent);
  BOOST_TEST(spent.ledger.used == ledger.used);  // a refused request is not counted
  BOOST_TEST(spent.resets_at == utc(2026, 11, 29, 8));
  auto next_day = policy::admit_request(spent.ledger, settings, utc(2026, 11, 29, 8), QuotaZone::us_pacific);
  BOOST_TEST(next_day.verdict == QuotaVerdict::allowed);
  BOOST_TEST(!next_day.ledger.exhausted);
}

BOOST_AUTO_TEST_SUITE_END()
