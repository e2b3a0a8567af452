#include <boost/test/unit_test.hpp>

#include <vector>

#include "policy/backoff.hpp"

using namespace oos::policy;

BOOST_AUTO_TEST_SUITE(backoff)

struct DelayCase {
  int attempt;
  double jitter;
  double random_fraction;
  std::int64_t expected_ms;
};

BOOST_AUTO_TEST_CASE(retry_delay_follows_the_table_and_is_shortened_by_jitter) {
  const std::vector<std::int64_t> table{1, 2, 4, 8, 16, 32, 60, 120, 300};
  const std::vector<DelayCase> cases{
      {1, 0.0, 0.9, 1000},                              // jitter 0 is exact
      {2, 0.0, 0.0, 2000},      {9, 0.0, 0.5, 300000},  // the last entry
      {42, 0.0, 0.5, 300000},                           // beyond the table: the last entry again
      {0, 0.0, 0.0, 1000},                              // attempt numbers start at 1
      {3, 0.1, 0.0, 4000},                              // no randomness drawn: full delay
      {3, 0.1, 0.5, 3800},                              // 4s shortened by 5%
      {3, 0.1, 0.999999, 3600},                         // at most 10% shorter
      {1, 1.0, 0.5, 500},                               // jitter 1 may halve it at fraction 0.5
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("attempt " << c.attempt << " jitter " << c.jitter << " fraction " << c.random_fraction) {
      BOOST_TEST(retry_delay(c.attempt, table, c.jitter, c.random_fraction).count() == c.expected_ms);
    }
  }
}

BOOST_AUTO_TEST_CASE(an_empty_table_retries_at_once) {
  BOOST_TEST(retry_delay(3, std::vector<std::int64_t>{}, 0.1, 0.5).count() == 0);
}

struct AfterCase {
  FailureKind kind;
  int attempts;
  int max_attempts;
  AfterFailure expected;
};

BOOST_AUTO_TEST_CASE(after_failure_dead_letters_at_max_attempts_or_when_permanent) {
  const std::vector<AfterCase> cases{
      {FailureKind::retryable, 1, 10, AfterFailure::retry}, {FailureKind::retryable, 9, 10, AfterFailure::retry},
      {FailureKind::retryable, 10, 10, AfterFailure::dead}, {FailureKind::temporary, 3, 10, AfterFailure::retry},
      {FailureKind::temporary, 10, 10, AfterFailure::dead}, {FailureKind::permanent, 1, 10, AfterFailure::dead},
      {FailureKind::retryable, 1, 1, AfterFailure::dead},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("kind " << static_cast<int>(c.kind) << " attempts " << c.attempts << "/" << c.max_attempts) {
      BOOST_TEST((after_failure(c.kind, c.attempts, c.max_attempts) == c.expected));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
