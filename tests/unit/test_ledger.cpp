// The search quota ledger on a real SQLite file.
#include <boost/test/unit_test.hpp>

#include "search/ledger.hpp"
#include "store_fixture.hpp"

using namespace oos;
using oos::test::StoreFixture;

BOOST_AUTO_TEST_SUITE(ledger)

// A request that waits for the write lock is counted at the time it gets it: the pacing bucket is refilled up
// to then, and stamped then (a stale time would let the next process refill the same seconds again).
BOOST_FIXTURE_TEST_CASE(a_request_is_counted_at_the_time_the_write_lock_is_held, StoreFixture) {
  oos::test::SharedClock shared;
  search::RateLimitStore ledger(*db);
  const policy::QuotaSettings settings{8640, 1};  // one request every 10 s
  BOOST_TEST(
      (ledger.acquire("google", settings, policy::QuotaZone::utc, shared).verdict == policy::QuotaVerdict::allowed));
  policy::QuotaDecision decision;
  write_after_waiting_for_the_lock(
      shared, 10'000, [&] { decision = ledger.acquire("google", settings, policy::QuotaZone::utc, shared); });
  BOOST_TEST((decision.verdict == policy::QuotaVerdict::allowed));  // the 10 s waited refilled one token
  BOOST_TEST(decision.ledger.tokens_at == shared.now());
  BOOST_TEST(ledger.load("google")->used == 2);
}

BOOST_AUTO_TEST_SUITE_END()
