// When a worker writes an outcome again after a failure of the storage, and when it gives up (record_retry.hpp).
#include <boost/test/unit_test.hpp>

#include <optional>
#include <vector>

#include "worker/record_retry.hpp"

using oos::worker::plan_record_retry;
using oos::worker::RecordFailures;

BOOST_AUTO_TEST_SUITE(record_retry)

BOOST_AUTO_TEST_CASE(the_wait_doubles_from_half_a_second_up_to_ten_seconds) {
  struct Case {
    int failures;
    double retry_after;
  };
  const std::vector<Case> cases{{1, 0.5}, {2, 1}, {3, 2}, {4, 4}, {5, 8}, {6, 10}, {50, 10}};
  for (const auto& c : cases) {
    RecordFailures f{100, c.failures, 1000, 300, std::nullopt};
    auto plan = plan_record_retry(f, 110);
    BOOST_TEST(!plan.give_up);
    BOOST_TEST(plan.retry_at - 110 == c.retry_after, "after failure " << c.failures);
  }
}

BOOST_AUTO_TEST_CASE(the_last_try_falls_on_the_deadline_and_after_it_the_worker_gives_up) {
  struct Case {
    RecordFailures failures;
    double now;
    bool give_up;
    double retry_at;
  };
  const std::vector<Case> cases{
      // The lease as last renewed comes first.
      {{100, 4, 112, 30, std::nullopt}, 110, false, 112},
      {{100, 5, 112, 30, std::nullopt}, 112, true, 112},
      // Renewed all along: one lease period after the first failure.
      {{100, 9, 500, 30, std::nullopt}, 125, false, 130},
      {{100, 9, 500, 30, std::nullopt}, 130, true, 130},
      // A stop: the end of the shutdown grace.
      {{100, 1, 500, 300, 101.2}, 101, false, 101.2},
      {{100, 2, 500, 300, 101.2}, 101.2, true, 101.2},
  };
  for (const auto& c : cases) {
    auto plan = plan_record_retry(c.failures, c.now);
    BOOST_TEST(plan.give_up == c.give_up, "at " << c.now);
    BOOST_TEST(plan.retry_at == c.retry_at, "at " << c.now);
  }
}

BOOST_AUTO_TEST_SUITE_END()
