#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include <array>
#include <barrier>
#include <chrono>
#include <exception>
#include <optional>
#include <span>
#include <string>
#include <thread>

#include "error.hpp"
#include "queue/sqlite_task_store.hpp"
#include "store_fixture.hpp"

using namespace oos;
using namespace oos::queue;
using oos::test::StoreFixture;

namespace {
const std::array<std::string, 1> k_default{"default"};
}

BOOST_AUTO_TEST_SUITE(task_store)

BOOST_FIXTURE_TEST_CASE(enqueue_stores_a_pending_task_with_the_queue_defaults, StoreFixture) {
  NewTask t;
  t.type = "mail";
  t.payload = R"({"to":"ops"})";
  t.delay = std::chrono::seconds(30);
  auto r = tasks.enqueue(t);
  BOOST_TEST(r.created);
  auto stored = tasks.find(r.id);
  BOOST_REQUIRE(stored);
  BOOST_TEST(stored->status == TaskStatus::pending);
  BOOST_TEST(stored->max_attempts == 10);
  BOOST_TEST(stored->run_at == clock.now() + 30'000);
  BOOST_TEST(stored->payload == R"({"to":"ops"})");
}

BOOST_FIXTURE_TEST_CASE(an_invalid_payload_is_rejected_and_nothing_is_stored, StoreFixture) {
  NewTask t;
  t.type = "mail";
  t.payload = "{nope";
  BOOST_CHECK_EXCEPTION(tasks.enqueue(t), Error, [](const Error& e) { return e.code() == ExitCode::data_error; });
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
}

BOOST_FIXTURE_TEST_CASE(a_batch_is_all_or_nothing, StoreFixture) {
  std::vector<NewTask> batch(3);
  for (auto& t : batch) t.type = "a";
  batch[2].payload = "[1,";
  BOOST_CHECK_THROW(tasks.enqueue_batch(batch), Error);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
  batch[2].payload = "[1]";
  auto ids = tasks.enqueue_batch(batch);
  BOOST_TEST(ids.size() == 3u);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 3);
}

BOOST_FIXTURE_TEST_CASE(a_unique_key_dedupes_while_the_task_is_active, StoreFixture) {
  NewTask t;
  t.type = "digest";
  t.unique_key = "daily";
  auto first = tasks.enqueue(t);
  auto second = tasks.enqueue(t);
  BOOST_TEST(second.id == first.id);
  BOOST_TEST(!second.created);
  auto claimed = tasks.claim(k_default, "w1");
  BOOST_REQUIRE(claimed);
  BOOST_TEST(tasks.enqueue(t).id == first.id);  // running still counts
  BOOST_TEST((tasks.complete(claimed->lease, "ok") == Fence::applied));
  auto third = tasks.enqueue(t);
  BOOST_TEST(third.created);
  BOOST_TEST(third.id != first.id);
}

BOOST_FIXTURE_TEST_CASE(claim_order_is_priority_then_run_at_then_id, StoreFixture) {
  auto low = add("default", 0);
  auto high = add("default", 5);
  clock.advance(1);
  auto high_later = add("default", 5);
  NewTask delayed;
  delayed.type = "job";
  delayed.priority = 9;
  delayed.delay = std::chrono::minutes(1);
  tasks.enqueue(delayed);
  std::vector<TaskId> order;
  while (auto c = tasks.claim(k_default, "w")) order.push_back(c->task.id);
  BOOST_TEST(order == (std::vector<TaskId>{high, high_later, low}));
}

BOOST_FIXTURE_TEST_CASE(claim_only_takes_from_the_named_unpaused_queues, StoreFixture) {
  add("other");
  auto mine = add("default");
  auto paused = add("slow");
  queues.set_paused("slow", true, clock.now());
  std::array<std::string, 2> wanted{"default", "slow"};
  auto c = tasks.claim(wanted, "w");
  BOOST_REQUIRE(c);
  BOOST_TEST(c->task.id == mine);
  BOOST_TEST(!tasks.claim(wanted, "w").has_value());
  queues.set_paused("slow", false, clock.now());
  auto resumed = tasks.claim(wanted, "w");
  BOOST_REQUIRE(resumed);
  BOOST_TEST(resumed->task.id == paused);
}

BOOST_FIXTURE_TEST_CASE(claim_sets_a_lease_with_a_random_token, StoreFixture) {
  add();
  add();
  auto a = tasks.claim(k_default, "w1");
  auto b = tasks.claim(k_default, "w2");
  BOOST_REQUIRE(a);
  BOOST_REQUIRE(b);
  BOOST_TEST(a->lease.token.size() == 32u);
  BOOST_TEST(a->lease.token != b->lease.token);
  BOOST_TEST(a->lease.expires_at == clock.now() + 30'000);
  BOOST_TEST(a->task.attempts == 1);
  BOOST_TEST(sql_text("SELECT lease_owner FROM tasks WHERE id = " + std::to_string(a->task.id)) == "w1");
}

BOOST_FIXTURE_TEST_CASE(complete_keeps_the_result_and_an_attempt_row, StoreFixture) {
  auto id = add();
  auto c = tasks.claim(k_default, "w1");
  clock.advance(250);
  BOOST_TEST((tasks.complete(c->lease, "done") == Fence::applied));
  auto t = tasks.find(id);
  BOOST_TEST(t->status == TaskStatus::succeeded);
  BOOST_TEST(*t->result == "done");
  auto history = tasks.attempts(id);
  BOOST_REQUIRE(history.size() == 1u);
  BOOST_TEST(history[0].outcome == "succeeded");
  BOOST_TEST(*history[0].worker == "w1");
  BOOST_TEST(history[0].ended_at - *history[0].started_at == 250);
}

BOOST_FIXTURE_TEST_CASE(a_failure_is_retried_after_the_backoff_delay, StoreFixture) {
  config.queue.backoff_jitter = 0;
  auto id = add();
  auto c = tasks.claim(k_default, "w");
  auto outcome = tasks.fail(c->lease, {policy::FailureKind::retryable, "exit 1: boom", 1});
  BOOST_TEST((outcome.fence == Fence::applied));
  BOOST_TEST(outcome.status == TaskStatus::pending);
  BOOST_TEST(outcome.retry_at == clock.now() + 1000);
  BOOST_TEST(!tasks.claim(k_default, "w").has_value());  // not runnable before the delay
  clock.advance(1000);
  auto again = tasks.claim(k_default, "w");
  BOOST_REQUIRE(again);
  BOOST_TEST(again->task.attempts == 2);
  tasks.fail(again->lease, {policy::FailureKind::retryable, "boom", 1});
  BOOST_TEST(tasks.find(id)->run_at == clock.now() + 2000);  // second delay: 2 s
  BOOST_TEST(*tasks.find(id)->last_error == "boom");
}

BOOST_FIXTURE_TEST_CASE(jitter_only_ever_shortens_the_delay, StoreFixture) {
  config.queue.backoff_seconds = {100};
  config.queue.backoff_jitter = 0.5;
  config.breaker.failure_threshold = 1000;
  for (int i = 0; i < 20; ++i) {
    add();
    auto c = tasks.claim(k_default, "w");
    BOOST_REQUIRE(c.has_value());
    auto outcome = tasks.fail(c->lease, {policy::FailureKind::retryable, "x", 1});
    BOOST_TEST(outcome.retry_at <= clock.now() + 100'000);
    BOOST_TEST(outcome.retry_at >= clock.now() + 50'000);
  }
}

BOOST_FIXTURE_TEST_CASE(max_attempts_dead_letters_with_the_last_error, StoreFixture) {
  config.queue.backoff_seconds = {0};
  NewTask t;
  t.type = "job";
  t.max_attempts = 3;
  auto id = tasks.enqueue(t).id;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto c = tasks.claim(k_default, "w");
    BOOST_REQUIRE(c);
    tasks.fail(c->lease, {policy::FailureKind::retryable, "failure " + std::to_string(attempt), 2});
  }
  auto dead = tasks.find(id);
  BOOST_TEST(dead->status == TaskStatus::dead);
  BOOST_TEST(*dead->last_error == "failure 3");
  BOOST_TEST(tasks.attempts(id).size() == 3u);
  BOOST_TEST(!tasks.claim(k_default, "w").has_value());
}

BOOST_FIXTURE_TEST_CASE(a_permanent_failure_is_dead_at_once, StoreFixture) {
  auto id = add();
  auto c = tasks.claim(k_default, "w");
  auto outcome = tasks.fail(c->lease, {policy::FailureKind::permanent, "exit 65", 65});
  BOOST_TEST(outcome.status == TaskStatus::dead);
  BOOST_TEST(tasks.find(id)->attempts == 1);
  BOOST_TEST(tasks.attempts(id)[0].outcome == "permanent");
}

BOOST_FIXTURE_TEST_CASE(an_expired_lease_is_reclaimed_and_counts_as_an_attempt, StoreFixture) {
  config.queue.backoff_jitter = 0;
  auto id = add();
  auto lost = tasks.claim(k_default, "killed-worker");
  BOOST_REQUIRE(lost);
  clock.advance(29'999);
  BOOST_TEST(tasks.reclaim_expired() == 0);  // still within the lease
  clock.advance(2);
  BOOST_TEST(tasks.reclaim_expired() == 1);
  auto t = tasks.find(id);
  BOOST_TEST(t->status == TaskStatus::pending);
  BOOST_TEST(t->attempts == 1);
  BOOST_TEST(*t->last_error == "lease expired (worker lost)");
  auto history = tasks.attempts(id);
  BOOST_REQUIRE(history.size() == 1u);
  BOOST_TEST(*history[0].worker == "killed-worker");
  BOOST_TEST(history[0].outcome == "lost");
  clock.advance(1000);
  auto retried = tasks.claim(k_default, "w2");
  BOOST_REQUIRE(retried);
  BOOST_TEST(retried->task.attempts == 2);
}

BOOST_FIXTURE_TEST_CASE(a_stale_token_can_neither_complete_nor_fail, StoreFixture) {
  config.queue.backoff_seconds = {0};
  auto id = add();
  auto old = tasks.claim(k_default, "slow-worker");
  clock.advance(31'000);
  tasks.reclaim_expired();
  auto fresh = tasks.claim(k_default, "w2");
  BOOST_REQUIRE(fresh);
  BOOST_TEST((tasks.complete(old->lease, "late result") == Fence::stale));
  BOOST_TEST((tasks.fail(old->lease, {policy::FailureKind::permanent, "late", 1}).fence == Fence::stale));
  BOOST_TEST(!tasks.renew(old->lease, "default"));
  auto t = tasks.find(id);
  BOOST_TEST(t->status == TaskStatus::running);
  BOOST_TEST(*t->lease_owner == "w2");
  BOOST_TEST((tasks.complete(fresh->lease, "ok") == Fence::applied));
  BOOST_TEST(*tasks.find(id)->result == "ok");
  BOOST_TEST((tasks.complete(fresh->lease, "twice") == Fence::stale));
}

BOOST_FIXTURE_TEST_CASE(renewal_extends_the_lease_past_its_first_expiry, StoreFixture) {
  add();
  auto c = tasks.claim(k_default, "w");
  for (int i = 0; i < 5; ++i) {
    clock.advance(10'000);
    BOOST_TEST(tasks.renew(c->lease, "default"));
    BOOST_TEST(tasks.reclaim_expired() == 0);
  }
  BOOST_TEST(c->lease.expires_at == clock.now() + 30'000);
  BOOST_TEST((tasks.complete(c->lease, "") == Fence::applied));
}

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

BOOST_FIXTURE_TEST_CASE(a_per_queue_lease_overrides_the_default, StoreFixture) {
  config.queues["slow"] = config.queue;
  config.queues["slow"].lease = std::chrono::minutes(5);
  add("slow");
  std::array<std::string, 1> slow{"slow"};
  auto c = tasks.claim(slow, "w");
  BOOST_TEST(c->lease.expires_at == clock.now() + 300'000);
  clock.advance(60'000);
  BOOST_TEST(tasks.reclaim_expired() == 0);
}

BOOST_FIXTURE_TEST_CASE(release_hands_the_task_back_without_counting_the_run, StoreFixture) {
  auto id = add();
  auto c = tasks.claim(k_default, "w");
  BOOST_TEST((tasks.release(c->lease) == Fence::applied));
  auto t = tasks.find(id);
  BOOST_TEST(t->status == TaskStatus::pending);
  BOOST_TEST(t->attempts == 0);
  BOOST_TEST((tasks.release(c->lease) == Fence::stale));
}

BOOST_FIXTURE_TEST_CASE(cancel_applies_to_pending_tasks_only, StoreFixture) {
  auto pending = add();
  auto running = add();
  tasks.cancel(pending);
  BOOST_TEST(tasks.find(pending)->status == TaskStatus::cancelled);
  tasks.claim(k_default, "w");
  BOOST_CHECK_EXCEPTION(tasks.cancel(running), Error,
                        [](const Error& e) { return e.code() == ExitCode::problem_reported; });
  BOOST_CHECK_EXCEPTION(tasks.cancel(999), Error, [](const Error& e) { return e.code() == ExitCode::no_input; });
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'task.cancel'") == 1);
}

BOOST_FIXTURE_TEST_CASE(requeue_brings_dead_tasks_back_with_attempts_reset, StoreFixture) {
  auto dead_id = add();
  auto other_dead = add("other");
  std::array<std::string, 2> both{"default", "other"};
  for (int i = 0; i < 2; ++i) {
    auto c = tasks.claim(both, "w");
    tasks.fail(c->lease, {policy::FailureKind::permanent, c->task.queue == "default" ? "disk full" : "bad input", 1});
  }
  auto dry = tasks.requeue({}, {std::nullopt, std::nullopt, "disk"}, DryRun::yes);
  BOOST_TEST(dry == std::vector<TaskId>{dead_id});
  BOOST_TEST(tasks.find(dead_id)->status == TaskStatus::dead);
  auto done = tasks.requeue({}, {std::nullopt, std::nullopt, "disk"}, DryRun::no);
  BOOST_TEST(done == std::vector<TaskId>{dead_id});
  auto t = tasks.find(dead_id);
  BOOST_TEST(t->status == TaskStatus::pending);
  BOOST_TEST(t->attempts == 0);
  BOOST_TEST(t->replays == 1);
  BOOST_TEST(tasks.find(other_dead)->status == TaskStatus::dead);
  std::array<TaskId, 1> not_dead{dead_id};
  BOOST_CHECK_THROW(tasks.requeue(not_dead, {}, DryRun::no), Error);
}

// A dead task whose unique key a newer active task holds cannot come back beside it (the unique index allows one
// pending or running task per key): 1 with a line naming both, nothing requeued, dry run or not; also two dead
// tasks of the same key in one requeue. (It was SQLite's raw UNIQUE constraint message.)
BOOST_FIXTURE_TEST_CASE(a_requeue_whose_unique_key_is_taken_is_refused_and_changes_nothing, StoreFixture) {
  NewTask t;
  t.type = "digest";
  t.unique_key = "daily";
  auto kill = [&] {
    auto c = tasks.claim(k_default, "w");
    BOOST_REQUIRE(c);
    tasks.fail(c->lease, {policy::FailureKind::permanent, "broken", 1});
    return c->task.id;
  };
  auto first = tasks.enqueue(t).id;
  BOOST_TEST(kill() == first);
  auto second = tasks.enqueue(t).id;  // the key is free again: a new task takes it
  // The message of the refusal (its code checked), "" when nothing was refused.
  auto refusal = [&](std::span<const TaskId> ids, DryRun dry_run) -> std::string {
    try {
      (void)tasks.requeue(ids, {}, dry_run);
    } catch (const Error& e) {
      BOOST_TEST((e.code() == ExitCode::problem_reported));
      return e.what();
    }
    return "";
  };
  std::array<TaskId, 1> ids{first};
  auto expected = fmt::format(
      "task {} cannot be requeued: task {} (pending) holds its unique key 'daily' in queue "
      "'default'",
      first, second);
  for (auto dry_run : {DryRun::no, DryRun::yes}) {
    auto by_id = refusal(ids, dry_run);
    BOOST_TEST(by_id.find(expected) == 0, by_id);
  }
  auto all = refusal({}, DryRun::no);
  BOOST_TEST(all.find(expected) == 0, all);
  BOOST_TEST(tasks.find(first)->status == TaskStatus::dead);
  BOOST_TEST(tasks.find(first)->replays == 0);
  // Both dead now: requeueing both at once would put two pending tasks on one key.
  BOOST_TEST(kill() == second);
  auto both = refusal({}, DryRun::no);
  BOOST_TEST(both.find("(dead, requeued by the same command) holds its unique key 'daily'") != std::string::npos, both);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'dead'") == 2);
  std::array<TaskId, 1> one{second};
  BOOST_TEST(tasks.requeue(one, {}, DryRun::no) == std::vector<TaskId>{second});  // one alone comes back
}

// Every run stays in the history across a replay: fail (max attempts 1), requeue, fail again: two rows, in
// order, the second marked with its replay. (Rows were keyed by attempt number, which a replay resets, so the
// second run replaced the first.)
BOOST_FIXTURE_TEST_CASE(the_history_keeps_every_run_across_replays, StoreFixture) {
  queue::NewTask task;
  task.queue = "default";
  task.type = "job";
  task.max_attempts = 1;
  auto id = tasks.enqueue(task).id;
  auto first = tasks.claim(k_default, "w");
  tasks.fail(first->lease, {policy::FailureKind::retryable, "first run failed", 1});
  std::array<TaskId, 1> ids{id};
  clock.advance(1000);
  tasks.requeue(ids, {}, DryRun::no);
  auto second = tasks.claim(k_default, "w");
  BOOST_TEST(second->task.attempts == 1);
  clock.advance(1000);
  tasks.fail(second->lease, {policy::FailureKind::retryable, "second run failed", 2});
  auto history = tasks.attempts(id);
  BOOST_REQUIRE(history.size() == 2u);
  BOOST_TEST(history[0].attempt == 1);
  BOOST_TEST(history[0].replay == 0);
  BOOST_TEST(*history[0].error == "first run failed");
  BOOST_TEST(history[1].attempt == 1);
  BOOST_TEST(history[1].replay == 1);
  BOOST_TEST(*history[1].error == "second run failed");
  BOOST_TEST(history[0].ended_at < history[1].ended_at);
}

BOOST_FIXTURE_TEST_CASE(purge_deletes_finished_tasks_past_their_retention, StoreFixture) {
  auto old_done = add();
  auto c = tasks.claim(k_default, "w");
  tasks.complete(c->lease, "");
  auto old_dead = add();
  c = tasks.claim(k_default, "w");
  tasks.fail(c->lease, {policy::FailureKind::permanent, "x", 1});
  clock.advance(8LL * 86'400'000);
  auto fresh = add();
  c = tasks.claim(k_default, "w");
  tasks.complete(c->lease, "");
  PurgeOptions count_only;
  count_only.dry_run = DryRun::yes;
  auto dry = tasks.purge(count_only);
  BOOST_TEST(dry.dead == 1);
  BOOST_TEST(dry.succeeded == 1);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 3);
  tasks.purge({});
  BOOST_TEST(!tasks.find(old_done).has_value());
  BOOST_TEST(!tasks.find(old_dead).has_value());
  BOOST_TEST(tasks.find(fresh).has_value());
  BOOST_TEST(sql_int("SELECT count(*) FROM task_attempts") == 1);  // cascaded
  BOOST_TEST(sql_int("SELECT n FROM queue_counts WHERE queue = 'default' AND status = 'succeeded'") == 1);
}

BOOST_FIXTURE_TEST_CASE(purge_of_dead_tasks_only_keeps_the_succeeded_ones, StoreFixture) {
  auto done = add();
  auto c = tasks.claim(k_default, "w");
  tasks.complete(c->lease, "");
  auto dead = add();
  c = tasks.claim(k_default, "w");
  tasks.fail(c->lease, {policy::FailureKind::permanent, "x", 1});
  clock.advance(60'000);
  PurgeOptions dead_only;
  dead_only.succeeded = false;
  dead_only.older_than = std::chrono::seconds(30);
  auto purged = tasks.purge(dead_only);
  BOOST_TEST(purged.dead == 1);
  BOOST_TEST(purged.succeeded == 0);
  BOOST_TEST(!tasks.find(dead).has_value());
  BOOST_TEST(tasks.find(done).has_value());
  BOOST_TEST(sql_int("SELECT n FROM queue_counts WHERE queue = 'default' AND status = 'dead'") == 0);
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

BOOST_FIXTURE_TEST_CASE(next_run_at_is_the_earliest_pending_run_at_of_the_listed_queues, StoreFixture) {
  const std::array<std::string, 2> both{"default", "other"};
  BOOST_TEST(!tasks.next_run_at(both).has_value());
  auto delayed = [&](const std::string& queue_name, int seconds) {
    NewTask t;
    t.queue = queue_name;
    t.type = "job";
    t.delay = std::chrono::seconds(seconds);
    return tasks.enqueue(t).id;
  };
  delayed("default", 30);
  auto soonest_default = delayed("default", 10);
  delayed("other", 5);
  delayed("unlisted", 1);
  BOOST_TEST(tasks.next_run_at(k_default).value_or(-1) == clock.now() + 10'000);
  BOOST_TEST(tasks.next_run_at(both).value_or(-1) == clock.now() + 5'000);
  // Only pending tasks count: once the earliest one runs, the next one is 30 s away.
  clock.advance(10'000);
  auto c = tasks.claim(k_default, "w");
  BOOST_REQUIRE(c);
  BOOST_TEST(c->task.id == soonest_default);
  BOOST_TEST(tasks.next_run_at(k_default).value_or(-1) == clock.now() + 20'000);
  tasks.complete(c->lease, "");
  BOOST_TEST(tasks.next_run_at(k_default).value_or(-1) == clock.now() + 20'000);
  // A task already runnable is "due" at its own (past) run_at.
  auto now_task = delayed("default", 0);
  clock.advance(3'000);
  BOOST_TEST(tasks.next_run_at(k_default).value_or(-1) == tasks.find(now_task)->run_at);
  tasks.cancel(now_task);
  BOOST_TEST(tasks.next_run_at(k_default).value_or(-1) == clock.now() + 17'000);
}

BOOST_FIXTURE_TEST_CASE(next_run_at_ignores_paused_queues, StoreFixture) {
  NewTask later;
  later.type = "job";
  later.delay = std::chrono::seconds(20);
  tasks.enqueue(later);
  add("slow");
  queues.set_paused("slow", true, clock.now());
  const std::array<std::string, 2> both{"default", "slow"};
  const std::array<std::string, 1> slow{"slow"};
  BOOST_TEST(!tasks.next_run_at(slow).has_value());
  BOOST_TEST(tasks.next_run_at(both).value_or(-1) == clock.now() + 20'000);
  queues.set_paused("slow", false, clock.now());
  BOOST_TEST(tasks.next_run_at(both).value_or(-1) == clock.now());
}

BOOST_FIXTURE_TEST_CASE(next_run_at_ignores_a_queue_whose_breaker_is_open_until_its_cooldown_ends, StoreFixture) {
  config.breaker.failure_threshold = 1;
  config.queue.backoff_seconds = {5};
  config.queue.backoff_jitter = 0;
  auto id = add("flaky");
  add("default");
  const std::array<std::string, 1> flaky{"flaky"};
  const std::array<std::string, 2> both{"default", "flaky"};
  auto c = tasks.claim(flaky, "w");
  BOOST_REQUIRE(c);
  tasks.fail(c->lease, {policy::FailureKind::retryable, "boom", 1});
  BOOST_REQUIRE((queues.breakers().load("queue", "flaky").state == policy::BreakerState::open));
  BOOST_TEST(tasks.find(id)->status == TaskStatus::pending);
  BOOST_TEST(!tasks.next_run_at(flaky).has_value());
  BOOST_TEST(tasks.next_run_at(both).value_or(-1) == clock.now());  // the default task
  clock.advance(60'000);  // the cooldown is over: a probe may run, the task counts again
  BOOST_TEST(tasks.next_run_at(flaky).value_or(-1) == tasks.find(id)->run_at);
}

BOOST_FIXTURE_TEST_CASE(runnable_count_counts_pending_tasks_that_are_due, StoreFixture) {
  const std::array<std::string, 2> both{"default", "other"};
  BOOST_TEST(tasks.runnable_count(both) == 0);
  BOOST_TEST(tasks.runnable_count({}) == 0);
  add();
  add();
  add("other");
  add("unlisted");
  NewTask later;
  later.type = "job";
  later.delay = std::chrono::seconds(5);
  tasks.enqueue(later);
  BOOST_TEST(tasks.runnable_count(k_default) == 2);
  BOOST_TEST(tasks.runnable_count(both) == 3);
  auto c = tasks.claim(k_default, "w");  // running: no longer counted
  BOOST_REQUIRE(c);
  BOOST_TEST(tasks.runnable_count(k_default) == 1);
  tasks.complete(c->lease, "");
  BOOST_TEST(tasks.runnable_count(k_default) == 1);
  clock.advance(4'999);
  BOOST_TEST(tasks.runnable_count(k_default) == 1);
  clock.advance(1);  // run_at == now: due
  BOOST_TEST(tasks.runnable_count(k_default) == 2);
  c = tasks.claim(k_default, "w");
  tasks.fail(c->lease, {policy::FailureKind::permanent, "x", 1});  // dead: not counted
  auto pending = tasks.list("default", TaskStatus::pending, 10);
  BOOST_REQUIRE(pending.size() == 1u);
  tasks.cancel(pending[0].id);  // cancelled: not counted
  BOOST_TEST(tasks.runnable_count(k_default) == 0);
  BOOST_TEST(tasks.runnable_count(both) == 1);
}

// The worker's fused transaction: the outcome of one run and the claim of the next commit together.
BOOST_FIXTURE_TEST_CASE(record_and_claim_records_the_outcome_and_claims_the_next_task, StoreFixture) {
  config.queue.backoff_jitter = 0;
  auto first = add();
  auto second = add();
  auto third = add();
  auto a = tasks.claim(k_default, "w1");
  BOOST_REQUIRE(a);
  BOOST_TEST(a->task.id == first);

  auto both = tasks.record_and_claim(a->lease, {true, "done", {}}, k_default, "w1");
  BOOST_TEST(both.recorded.fence == Fence::applied);
  BOOST_TEST(both.recorded.status == TaskStatus::succeeded);
  BOOST_TEST(tasks.find(first)->status == TaskStatus::succeeded);
  BOOST_TEST(*tasks.find(first)->result == "done");
  BOOST_REQUIRE(both.next);
  BOOST_TEST(both.next->task.id == second);
  BOOST_TEST(tasks.find(second)->status == TaskStatus::running);

  auto failed = tasks.record_and_claim(both.next->lease, {false, "", {policy::FailureKind::retryable, "boom", 1}},
                                       k_default, "w1");
  BOOST_TEST(failed.recorded.fence == Fence::applied);
  BOOST_TEST(failed.recorded.status == TaskStatus::pending);
  BOOST_TEST(failed.recorded.retry_at == clock.now() + 1000);
  BOOST_TEST(*tasks.find(second)->last_error == "boom");
  BOOST_REQUIRE(failed.next);
  BOOST_TEST(failed.next->task.id == third);  // the failed one is not due for a second

  // Nothing left to claim: the outcome is still committed.
  auto last = tasks.record_and_claim(failed.next->lease, {true, "", {}}, k_default, "w1");
  BOOST_TEST(last.recorded.fence == Fence::applied);
  BOOST_TEST(!last.next);
  BOOST_TEST(tasks.find(third)->status == TaskStatus::succeeded);
  BOOST_TEST(sql_int("SELECT count(*) FROM task_attempts") == 3);
}

BOOST_FIXTURE_TEST_CASE(record_and_claim_with_a_stale_lease_changes_nothing_but_still_claims, StoreFixture) {
  auto first = add();
  auto second = add();
  auto a = tasks.claim(k_default, "w1");
  BOOST_REQUIRE(a);
  auto stale = a->lease;
  stale.token = "not-the-current-token";
  auto both = tasks.record_and_claim(stale, {true, "late", {}}, k_default, "w1");
  BOOST_TEST(both.recorded.fence == Fence::stale);
  BOOST_TEST(tasks.find(first)->status == TaskStatus::running);
  BOOST_TEST(!tasks.find(first)->result);
  BOOST_REQUIRE(both.next);
  BOOST_TEST(both.next->task.id == second);
}

BOOST_AUTO_TEST_SUITE_END()
