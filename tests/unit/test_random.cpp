#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "util/random.hpp"

using namespace oos::util;

// The suite's namespace would clash with ::random() at global scope.
namespace oos_unit {

BOOST_AUTO_TEST_SUITE(random)

BOOST_AUTO_TEST_CASE(random_token_is_32_lowercase_hex_characters) {
  for (int i = 0; i < 100; ++i) {
    auto token = random_token();
    BOOST_TEST_CONTEXT("token " << token) {
      BOOST_TEST(token.size() == 32u);
      BOOST_TEST(token.find_first_not_of("0123456789abcdef") == std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(random_token_takes_its_length_in_bytes) {
  auto token = random_token(32);  // the API's CSRF token
  BOOST_TEST(token.size() == 64u);
  BOOST_TEST(token.find_first_not_of("0123456789abcdef") == std::string::npos);
  BOOST_TEST(token != random_token(32));
}

BOOST_AUTO_TEST_CASE(random_tokens_differ_across_calls) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(random_token());
  BOOST_TEST(seen.size() == 1000u);
}

BOOST_AUTO_TEST_CASE(random_tokens_use_every_hex_digit) {
  // 100 tokens hold 3200 digits: each of the 16 should appear (a stuck nibble or a decimal-only encoding
  // would not).
  std::set<char> digits;
  for (int i = 0; i < 100; ++i)
    for (char c : random_token()) digits.insert(c);
  BOOST_TEST(digits.size() == 16u);
}

BOOST_AUTO_TEST_CASE(rng_with_the_same_seed_repeats_the_same_sequence) {
  Rng a(42), b(42);
  for (int i = 0; i < 50; ++i) {
    BOOST_TEST(a.fraction() == b.fraction());
    BOOST_TEST(a.between(0, 1'000'000) == b.between(0, 1'000'000));
  }
}

BOOST_AUTO_TEST_CASE(rng_with_different_seeds_gives_different_sequences) {
  Rng a(1), b(2);
  std::vector<double> from_a, from_b;
  for (int i = 0; i < 10; ++i) {
    from_a.push_back(a.fraction());
    from_b.push_back(b.fraction());
  }
  BOOST_TEST((from_a != from_b));
}

BOOST_AUTO_TEST_CASE(unseeded_rngs_differ_from_each_other) {
  Rng a, b;
  std::vector<std::uint32_t> from_a, from_b;
  for (int i = 0; i < 8; ++i) {
    from_a.push_back(a.between(0, 0xffffffffu));
    from_b.push_back(b.between(0, 0xffffffffu));
  }
  BOOST_TEST((from_a != from_b));
}

BOOST_AUTO_TEST_CASE(fraction_stays_in_the_half_open_unit_interval_and_spreads_over_it) {
  Rng rng(7);
  double low = 1.0, high = 0.0, sum = 0.0;
  const int n = 10'000;
  for (int i = 0; i < n; ++i) {
    auto f = rng.fraction();
    BOOST_TEST_REQUIRE(f >= 0.0);
    BOOST_TEST_REQUIRE(f < 1.0);
    low = std::min(low, f);
    high = std::max(high, f);
    sum += f;
  }
  BOOST_TEST(low < 0.01);
  BOOST_TEST(high > 0.99);
  BOOST_TEST(sum / n > 0.45);
  BOOST_TEST(sum / n < 0.55);
}

struct BetweenCase {
  std::uint32_t low;
  std::uint32_t high;
};

BOOST_AUTO_TEST_CASE(between_stays_in_the_closed_range_and_reaches_both_ends) {
  const std::vector<BetweenCase> cases{{0, 1}, {5, 9}, {100, 100}, {0xfffffff0u, 0xffffffffu}};
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("[" << c.low << ", " << c.high << "]") {
      Rng rng(c.low);
      std::set<std::uint32_t> seen;
      for (int i = 0; i < 2000; ++i) {
        auto v = rng.between(c.low, c.high);
        BOOST_TEST_REQUIRE(v >= c.low);
        BOOST_TEST_REQUIRE(v <= c.high);
        seen.insert(v);
      }
      BOOST_TEST(seen.size() == static_cast<std::size_t>(c.high - c.low) + 1u);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace oos_unit
