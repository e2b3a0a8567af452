// The search quota ledger on a real SQLite file.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "search/ledger.hpp"
#include "store_fixture.hpp"

using namespace oos;
using oos::test::StoreFixture;

namespace {

// A wall clock that another thread may move.
struct SharedClock final : util::Clock {
  std::atomic<util::UnixMillis> ms{1'700'000'000'000};
  util::UnixMillis now() const override { return ms.load(); }
  double monotonic() const override { return static_cast<double>(ms.load()) / 1000.0; }
  void sleep_for(std::int64_t) const override {}
};

}  // namespace

BOOST_AUTO_TEST_SUITE(ledger)

// A request that waits for the write lock is counted at the time it gets it: the pacing bucket is refilled up
// to then, and stamped then (a stale time would let the next process refill the same seconds again).
BOOST_FIXTURE_TEST_CASE(a_request_is_counted_at_the_time_the_write_lock_is_held, StoreFixture) {
  SharedClock shared;
  search::RateLimitStore ledger(*db);
  const policy::QuotaSettings settings{8640, 1};  // one request every 10 s
  BOOST_TEST(
      (ledger.acquire("google", settings, policy::QuotaZone::utc, shared).verdict == policy::QuotaVerdict::allowed));
  auto holder = open();
  holder->raw().exec("BEGIN IMMEDIATE");
  std::thread other([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the acquire below is waiting by now
    shared.ms += 10'000;
    holder->raw().exec("COMMIT");
  });
  auto decision = ledger.acquire("google", settings, policy::QuotaZone::utc, shared);
  other.join();
  BOOST_TEST((decision.verdict == policy::QuotaVerdict::allowed));  // the 10 s waited refilled one token
  BOOST_TEST(decision.ledger.tokens_at == shared.now());
  BOOST_TEST(ledger.load("google")->used == 2);
}

BOOST_AUTO_TEST_SUITE_END()
