#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "util/duration.hpp"

using namespace oos::util;

BOOST_AUTO_TEST_SUITE(duration)

struct DurationCase {
  std::string text;
  std::int64_t expected_ms;
};

BOOST_AUTO_TEST_CASE(parse_duration_accepts_every_unit_of_the_design) {
  const std::vector<DurationCase> cases{
      {"500ms", 500},
      {"0ms", 0},
      {"0s", 0},
      {"30s", 30'000},
      {"90s", 90'000},
      {"5m", 300'000},
      {"6h", 21'600'000},
      {"24h", 86'400'000},
      {"7d", 604'800'000},
      {"1d", 86'400'000},
      {"9223372036854775807ms", INT64_MAX},            // the largest representable duration
      {"106751991167d", 106751991167LL * 86'400'000},  // the most days that fit
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("text '" << c.text << "'") {
      auto parsed = parse_duration(c.text);
      BOOST_TEST_REQUIRE(parsed.has_value());
      BOOST_TEST(parsed->count() == c.expected_ms);
    }
  }
}

struct RejectCase {
  std::string text;
  std::string expected_error;
};

BOOST_AUTO_TEST_CASE(parse_duration_rejects_bare_numbers_unknown_units_signs_and_overflow) {
  const std::vector<RejectCase> cases{
      {"30", "invalid duration '30': unit must be one of ms, s, m, h, d"},
      {"0", "invalid duration '0': unit must be one of ms, s, m, h, d"},
      {"5w", "invalid duration '5w': unit must be one of ms, s, m, h, d"},
      {"5S", "invalid duration '5S': unit must be one of ms, s, m, h, d"},
      {"5 s", "invalid duration '5 s': unit must be one of ms, s, m, h, d"},
      {"5sec", "invalid duration '5sec': unit must be one of ms, s, m, h, d"},
      {"1.5s", "invalid duration '1.5s': unit must be one of ms, s, m, h, d"},
      {"-5s", "invalid duration '-5s': expected a number followed by a unit"},
      {"+5s", "invalid duration '+5s': expected a number followed by a unit"},
      {"", "invalid duration '': expected a number followed by a unit"},
      {"s", "invalid duration 's': expected a number followed by a unit"},
      {" 5s", "invalid duration ' 5s': expected a number followed by a unit"},
      {"99999999999999999999s", "invalid duration '99999999999999999999s': number too large"},
      {"9223372036854775808ms", "invalid duration '9223372036854775808ms': too large"},
      {"106751991168d", "invalid duration '106751991168d': too large"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("text '" << c.text << "'") {
      auto parsed = parse_duration(c.text);
      BOOST_TEST_REQUIRE(!parsed.has_value());
      BOOST_TEST(parsed.error() == c.expected_error);
    }
  }
}

struct FormatCase {
  std::int64_t ms;
  std::string expected;
};

BOOST_AUTO_TEST_CASE(format_duration_uses_the_largest_unit_that_divides_exactly) {
  const std::vector<FormatCase> cases{
      {0, "0s"},          {-5000, "0s"},  // negative durations print as zero
      {1, "1ms"},         {500, "500ms"},      {1500, "1500ms"},    {1000, "1s"},      {90'000, "90s"},
      {60'000, "1m"},     {300'000, "5m"},     {5'400'000, "90m"},  {3'600'000, "1h"}, {21'600'000, "6h"},
      {86'400'000, "1d"}, {604'800'000, "7d"}, {90'000'000, "25h"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.ms << " ms") {
      BOOST_TEST(format_duration(Millis(c.ms)) == c.expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(format_age_shows_the_two_largest_units_rounded_down) {
  const std::vector<FormatCase> cases{
      {-1000, "0s"},          {999, "0s"},           {59'999, "59s"},        {60'000, "1m00s"},
      {192'000, "3m12s"},     {3'599'999, "59m59s"}, {3'600'000, "1h00m"},   {47'123'456, "13h05m"},
      {86'399'999, "23h59m"}, {86'400'000, "1d00h"}, {176'400'000, "2d01h"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.ms << " ms") {
      BOOST_TEST(format_age(Millis(c.ms)) == c.expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(format_duration_output_parses_back_to_the_same_duration) {
  for (std::int64_t ms : {1LL, 999LL, 1000LL, 61'000LL, 3'600'000LL, 172'800'000LL, 172'800'001LL}) {
    BOOST_TEST_CONTEXT(ms << " ms") {
      auto parsed = parse_duration(format_duration(Millis(ms)));
      BOOST_TEST_REQUIRE(parsed.has_value());
      BOOST_TEST(parsed->count() == ms);
    }
  }
}

struct SizeCase {
  std::string text;
  std::uint64_t expected_bytes;
};

BOOST_AUTO_TEST_CASE(parse_size_accepts_bytes_and_binary_units_with_kib_synonyms) {
  const std::vector<SizeCase> cases{
      {"0", 0},
      {"512", 512},  // the unit is optional for sizes
      {"512B", 512},
      {"1KB", 1024},
      {"1KiB", 1024},
      {"10MB", 10ull << 20},
      {"10MiB", 10ull << 20},
      {"3GB", 3ull << 30},
      {"3GiB", 3ull << 30},
      {"2TB", 2ull << 40},
      {"2TiB", 2ull << 40},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("text '" << c.text << "'") {
      auto parsed = parse_size(c.text);
      BOOST_TEST_REQUIRE(parsed.has_value());
      BOOST_TEST(*parsed == c.expected_bytes);
    }
  }
}

BOOST_AUTO_TEST_CASE(parse_size_rejects_unknown_units_signs_empty_text_and_overflow) {
  const std::vector<RejectCase> cases{
      {"10kb", "invalid size '10kb': unit must be one of B, KB, MB, GB, TB"},
      {"10K", "invalid size '10K': unit must be one of B, KB, MB, GB, TB"},
      {"10PB", "invalid size '10PB': unit must be one of B, KB, MB, GB, TB"},
      {"10 MB", "invalid size '10 MB': unit must be one of B, KB, MB, GB, TB"},
      {"1.5GB", "invalid size '1.5GB': unit must be one of B, KB, MB, GB, TB"},
      {"-1MB", "invalid size '-1MB': expected a number followed by a unit"},
      {"", "invalid size '': expected a number followed by a unit"},
      {"MB", "invalid size 'MB': expected a number followed by a unit"},
      {"99999999999999999999", "invalid size '99999999999999999999': number too large"},
      {"8388608TB", "invalid size '8388608TB': too large"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("text '" << c.text << "'") {
      auto parsed = parse_size(c.text);
      BOOST_TEST_REQUIRE(!parsed.has_value());
      BOOST_TEST(parsed.error() == c.expected_error);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
