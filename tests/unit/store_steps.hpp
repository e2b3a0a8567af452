// Steps the store tests of both backends take through the store interfaces alone: what the fixtures' add() and
// fail_one() do (store_fixture.hpp, pg_store_fixture.hpp, store_contract.hpp), and the rows that a case of the store
// contract and each backend's own check of the same query start from.
#pragma once

#include <boost/test/unit_test.hpp>

#include <array>
#include <string>

#include "queue/task_store.hpp"
#include "queue/worker_registry.hpp"
#include "util/time.hpp"

namespace oos::test {

// The default queue alone, as claim() takes it.
inline const std::array<std::string, 1> k_default{"default"};

// Enqueues a task of type "job" on `queue_name` with `priority`; returns its id.
inline queue::TaskId add_job(queue::TaskStore& tasks, const std::string& queue_name = "default", int priority = 0) {
  queue::NewTask task;
  task.queue = queue_name;
  task.type = "job";
  task.priority = priority;
  return tasks.enqueue(task).id;
}

// Claims one task of the default queue as worker "w" and fails it (retryable).
inline void claim_and_fail_one(queue::TaskStore& tasks) {
  auto c = tasks.claim(k_default, "w");
  BOOST_REQUIRE(c);
  tasks.fail(c->lease, {policy::FailureKind::retryable, "boom", 1});
}

// Three tasks of the default queue, two of them running: claimed by workers "w1" and "w2".
inline void run_two_of_three(queue::TaskStore& tasks) {
  for (int i = 0; i < 3; ++i) add_job(tasks);
  auto first = tasks.claim(k_default, "w1");
  auto second = tasks.claim(k_default, "w2");
  BOOST_REQUIRE(first);
  BOOST_REQUIRE(second);
}

// Three tasks of "mail", then one of "images", each claimed and failed for good in turn, `clock` moved a minute after
// each. Returns the time 150 s before the clock's: since then the last two died (60 and 120 s ago), mail's third and
// images'.
inline util::UnixMillis four_deaths_a_minute_apart(queue::TaskStore& tasks, util::ManualClock& clock) {
  const std::array<std::string, 2> both{"mail", "images"};
  for (int i = 0; i < 3; ++i) add_job(tasks, "mail");
  add_job(tasks, "images");
  for (int i = 0; i < 4; ++i) {
    auto c = tasks.claim(both, "w");
    BOOST_REQUIRE(c);
    tasks.fail(c->lease, {policy::FailureKind::permanent, "x", 1});
    clock.advance(60'000);
  }
  return clock.now() - 150'000;
}

// Workers "b", "a", "c" and "B" (pids 2, 1, 3, 4, on host "h"), started and beating at `at`, in that order: their
// names' byte order is "B", "a", "b", "c".
inline void four_workers_out_of_order(queue::WorkerRegistry& workers, util::UnixMillis at) {
  workers.heartbeat("b", 2, "h", at, at, "", 0);
  workers.heartbeat("a", 1, "h", at, at, "", 0);
  workers.heartbeat("c", 3, "h", at, at, "", 0);
  workers.heartbeat("B", 4, "h", at, at, "", 0);
}

}  // namespace oos::test
