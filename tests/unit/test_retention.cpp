#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "policy/retention.hpp"

using namespace oos::policy;

BOOST_AUTO_TEST_SUITE(retention)

namespace {

constexpr std::int64_t k_hour = 3'600'000;
constexpr std::int64_t k_day = 24 * k_hour;
// Monday 2026-11-23 00:00 UTC.
constexpr std::int64_t k_monday = 1'795'392'000'000;

// The kept backups as a string of '1'/'0' in input order, easy to read in a failing case.
std::string kept(const std::vector<std::int64_t>& times, RetentionPolicy policy) {
  std::string out;
  for (bool k : backups_to_keep(times, policy)) out += k ? '1' : '0';
  return out;
}

struct Case {
  const char* name;
  std::vector<std::int64_t> times;
  RetentionPolicy policy;
  std::string expected;
};

}  // namespace

BOOST_AUTO_TEST_CASE(the_reference_monday_is_a_monday) {
  // 2026-11-23 is a Monday: 20415 days after 1970-01-01 (a Thursday); 20415 % 7 == 3 -> Thursday + 4.
  BOOST_TEST(k_monday % k_day == 0);
  BOOST_TEST((k_monday / k_day + 3) % 7 == 0);
}

BOOST_AUTO_TEST_CASE(keeps_exactly_what_the_rules_say) {
  // Four backups a day (every 6 h) for 21 days, oldest first, ending on Sunday 2026-11-29 18:00.
  std::vector<std::int64_t> every_6h;
  for (int i = 0; i < 21 * 4; ++i) every_6h.push_back(k_monday - 14 * k_day + i * 6 * k_hour);
  auto count = [](const std::string& s) { return std::count(s.begin(), s.end(), '1'); };

  auto last_only = kept(every_6h, {8, 0, 0});
  BOOST_TEST(count(last_only) == 8);
  BOOST_TEST(last_only.substr(every_6h.size() - 8) == std::string(8, '1'));

  // Daily: the newest of each of the 7 most recent days (their 18:00 backups).
  auto daily = kept(every_6h, {0, 7, 0});
  BOOST_TEST(count(daily) == 7);
  for (std::size_t i = 0; i < every_6h.size(); ++i) BOOST_TEST_CONTEXT("backup " << i) {
      bool expected = i >= every_6h.size() - 28 && i % 4 == 3;
      BOOST_TEST((daily[i] == '1') == expected);
    }

  // Weekly: the newest of each of 4 weeks; only 3 weeks have backups, so 3 are kept (the Sunday 18:00 ones).
  auto weekly = kept(every_6h, {0, 0, 4});
  BOOST_TEST(count(weekly) == 3);
  for (std::size_t i = 0; i < every_6h.size(); ++i) BOOST_TEST_CONTEXT("backup " << i) {
      bool expected = i % 28 == 27;
      BOOST_TEST((weekly[i] == '1') == expected);
    }

  // The defaults together: 8 last (2 days' worth) + 5 more days + 2 more weeks.
  BOOST_TEST(count(kept(every_6h, {8, 7, 4})) == 8 + 5 + 2);
}

BOOST_AUTO_TEST_CASE(small_sets) {
  const std::vector<Case> cases{
      {"nothing to keep from", {}, {8, 7, 4}, ""},
      {"all counts zero", {k_monday, k_monday + k_hour}, {0, 0, 0}, "00"},
      {"fewer than keep_last", {k_monday, k_monday + k_hour}, {8, 0, 0}, "11"},
      {"input order does not matter", {k_monday + k_hour, k_monday, k_monday + 2 * k_hour}, {1, 0, 0}, "001"},
      {"daily keeps the newest of the day", {k_monday + k_hour, k_monday + 5 * k_hour}, {0, 1, 0}, "01"},
      {"days without backups do not count", {k_monday - 10 * k_day, k_monday}, {0, 2, 0}, "11"},
      {"a Sunday and the next Monday are different weeks", {k_monday - k_hour, k_monday}, {0, 0, 2}, "11"},
      {"Monday and Sunday of one week are one week", {k_monday, k_monday + 6 * k_day + k_hour}, {0, 0, 2}, "01"},
      {"rules overlap rather than add up", {k_monday, k_monday + k_day}, {2, 2, 2}, "11"},
      {"before 1970 still lands in its own day", {-k_hour, 0}, {0, 2, 0}, "11"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      BOOST_TEST(kept(c.times, c.policy) == c.expected);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
