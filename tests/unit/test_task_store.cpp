// SqliteTaskStore's own cases: how it behaves under SQLite's write lock (the lease time taken once the lock is held,
// two connections claiming on one file). The semantics both backends share are the store contract
// (store_contract_cases.hpp, run on SQLite by unit.store_contract_sqlite).
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <barrier>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "queue/sqlite_task_store.hpp"
#include "store_fixture.hpp"

using namespace oos;
using namespace oos::queue;
using oos::test::StoreFixture;

namespace {
const std::array<std::string, 1> k_default{"default"};
}

BOOST_AUTO_TEST_SUITE(task_store)

// A claim or renewal that waits for the write lock grants its lease from the time it gets the lock: the 10 s
// it waited must not shorten the lease.
BOOST_FIXTURE_TEST_CASE(a_lease_is_granted_from_the_time_the_write_lock_is_held, StoreFixture) {
  oos::test::SharedClock shared;
  queue::SqliteTaskStore store(*db, config, shared, *logger);
  add();
  add();
  std::optional<queue::ClaimedTask> claimed;
  write_after_waiting_for_the_lock(shared, 10'000, [&] { claimed = store.claim(k_default, "w"); });
  BOOST_REQUIRE(claimed);
  BOOST_TEST(claimed->lease.expires_at == shared.now() + 30'000);
  write_after_waiting_for_the_lock(shared, 10'000, [&] { BOOST_TEST(store.renew(claimed->lease, "default")); });
  BOOST_TEST(claimed->lease.expires_at == shared.now() + 30'000);
  BOOST_TEST(sql_int("SELECT lease_expires_at FROM tasks WHERE id = 1") == shared.now() + 30'000);
}

// Both connections claim in lockstep rounds (a barrier), so their claims certainly interleave on the same file;
// an exception in the second thread is carried back and fails the test instead of ending the run.
BOOST_AUTO_TEST_CASE(two_connections_never_claim_the_same_task) {
  StoreFixture a;
  auto second_db = a.open();
  queue::SqliteTaskStore other(*second_db, a.config, a.clock, *a.logger);
  constexpr std::size_t k_rounds = 50;
  for (std::size_t i = 0; i < 2 * k_rounds; ++i) a.add();
  std::barrier round(2);
  auto claim_rounds = [&](queue::TaskStore& store, const char* worker, std::vector<TaskId>& seen) {
    try {
      for (std::size_t i = 0; i < k_rounds; ++i) {
        round.arrive_and_wait();
        if (auto c = store.claim(k_default, worker)) seen.push_back(c->task.id);
      }
    } catch (...) {
      round.arrive_and_drop();  // the other side goes on alone instead of waiting for good
      throw;
    }
  };
  std::vector<TaskId> seen_a, seen_b;
  std::exception_ptr thread_error;
  std::thread t([&] {
    try {
      claim_rounds(other, "b", seen_b);
    } catch (...) {
      thread_error = std::current_exception();
    }
  });
  std::exception_ptr main_error;
  try {
    claim_rounds(a.tasks, "a", seen_a);
  } catch (...) {
    main_error = std::current_exception();
  }
  t.join();
  if (main_error) std::rethrow_exception(main_error);
  if (thread_error) std::rethrow_exception(thread_error);
  BOOST_TEST(seen_a.size() == k_rounds);
  BOOST_TEST(seen_b.size() == k_rounds);
  std::vector<TaskId> all = seen_a;
  all.insert(all.end(), seen_b.begin(), seen_b.end());
  std::sort(all.begin(), all.end());
  BOOST_TEST(all.size() == 2 * k_rounds);
  BOOST_TEST((std::adjacent_find(all.begin(), all.end()) == all.end()));
}

BOOST_AUTO_TEST_SUITE_END()
