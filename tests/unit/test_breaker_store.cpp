#include <boost/test/unit_test.hpp>

#include <array>

#include "store_fixture.hpp"

using namespace oos;
using namespace oos::queue;
using oos::test::StoreFixture;

namespace {
const std::array<std::string, 1> k_default{"default"};

// Claims and fails one task of the default queue.
void fail_one(StoreFixture& f) {
  auto c = f.tasks.claim(k_default, "w");
  BOOST_REQUIRE(c);
  f.tasks.fail(c->lease, {policy::FailureKind::retryable, "boom", 1});
}
}  // namespace

BOOST_AUTO_TEST_SUITE(breaker_store)

BOOST_FIXTURE_TEST_CASE(ten_consecutive_failures_open_the_breaker_and_stop_claims, StoreFixture) {
  config.queue.max_attempts = 1;
  for (int i = 0; i < 12; ++i) add();
  for (int i = 0; i < 9; ++i) fail_one(*this);
  BOOST_TEST((queues.breakers().load("queue", "default").state == policy::BreakerState::closed));
  fail_one(*this);
  auto b = queues.breakers().load("queue", "default");
  BOOST_TEST((b.state == policy::BreakerState::open));
  BOOST_TEST(b.consecutive_failures == 10);
  BOOST_TEST(!tasks.claim(k_default, "w").has_value());  // two tasks left, both held back
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'pending'") == 2);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'breaker.open' AND object = 'queue/default'") == 1);
}

BOOST_FIXTURE_TEST_CASE(a_success_resets_the_failure_count, StoreFixture) {
  config.queue.max_attempts = 1;
  for (int i = 0; i < 20; ++i) add();
  for (int i = 0; i < 9; ++i) fail_one(*this);
  auto c = tasks.claim(k_default, "w");
  tasks.complete(c->lease, "");
  for (int i = 0; i < 9; ++i) fail_one(*this);
  BOOST_TEST((queues.breakers().load("queue", "default").state == policy::BreakerState::closed));
}

BOOST_FIXTURE_TEST_CASE(after_the_cooldown_one_probe_runs_and_its_success_closes_the_breaker, StoreFixture) {
  config.queue.max_attempts = 1;
  for (int i = 0; i < 13; ++i) add();
  for (int i = 0; i < 10; ++i) fail_one(*this);
  clock.advance(60'000);
  auto probe = tasks.claim(k_default, "w");
  BOOST_REQUIRE(probe);
  BOOST_TEST(probe->probe);
  BOOST_TEST((queues.breakers().load("queue", "default").state == policy::BreakerState::half_open));
  BOOST_TEST(!tasks.claim(k_default, "w2").has_value());  // only one probe at a time
  tasks.complete(probe->lease, "");
  BOOST_TEST((queues.breakers().load("queue", "default").state == policy::BreakerState::closed));
  BOOST_TEST(tasks.claim(k_default, "w2").has_value());
}

BOOST_FIXTURE_TEST_CASE(a_failed_probe_reopens_with_a_doubled_cooldown, StoreFixture) {
  config.queue.max_attempts = 1;
  for (int i = 0; i < 13; ++i) add();
  for (int i = 0; i < 10; ++i) fail_one(*this);
  clock.advance(60'000);
  fail_one(*this);  // the probe fails
  auto b = queues.breakers().load("queue", "default");
  BOOST_TEST((b.state == policy::BreakerState::open));
  BOOST_TEST(b.cooldown_ms == 120'000);
  clock.advance(119'000);
  BOOST_TEST(!tasks.claim(k_default, "w").has_value());
  clock.advance(1'000);
  BOOST_TEST(tasks.claim(k_default, "w").has_value());
}

BOOST_FIXTURE_TEST_CASE(temporary_failures_do_not_count_against_the_breaker, StoreFixture) {
  config.queue.backoff_seconds = {0};
  config.queue.max_attempts = 100;
  add();
  for (int i = 0; i < 15; ++i) {
    auto c = tasks.claim(k_default, "w");
    BOOST_REQUIRE(c);
    tasks.fail(c->lease, {policy::FailureKind::temporary, "try later", 75});
  }
  BOOST_TEST(queues.breakers().load("queue", "default").consecutive_failures == 0);
}

BOOST_FIXTURE_TEST_CASE(reset_closes_an_open_breaker_by_hand, StoreFixture) {
  config.queue.max_attempts = 1;
  for (int i = 0; i < 11; ++i) add();
  for (int i = 0; i < 10; ++i) fail_one(*this);
  auto before = queues.breakers().reset("queue", "default", clock.now());
  BOOST_TEST((before.state == policy::BreakerState::open));
  auto after = queues.breakers().load("queue", "default");
  BOOST_TEST((after.state == policy::BreakerState::closed));
  BOOST_TEST(after.consecutive_failures == 0);
  BOOST_TEST(tasks.claim(k_default, "w").has_value());
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'breaker.reset'") == 1);
}

BOOST_FIXTURE_TEST_CASE(breakers_are_per_queue, StoreFixture) {
  config.queue.max_attempts = 1;
  for (int i = 0; i < 10; ++i) add();
  add("other");
  for (int i = 0; i < 10; ++i) fail_one(*this);
  std::array<std::string, 2> both{"default", "other"};
  auto c = tasks.claim(both, "w");
  BOOST_REQUIRE(c);
  BOOST_TEST(c->task.queue == "other");
}

BOOST_AUTO_TEST_SUITE_END()
