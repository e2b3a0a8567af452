// The cases of the store contract (store_contract.hpp): included once by each backend's suite, inside its
// BOOST_AUTO_TEST_SUITE, after it defines ContractFixture (a StoreContractFixture on a fresh database of its backend).
// Every case holds on both backends: a case that passes on one and fails on the other is a defect of the other.
// No #pragma once: each suite file includes it once, inside its own suite.

// --- Enqueue

BOOST_FIXTURE_TEST_CASE(enqueue_stores_a_pending_task_with_the_queue_defaults, ContractFixture) {
  NewTask t;
  t.type = "mail";
  t.payload = R"({"to":"ops", "text": "żółw 'quoted' \"x\""})";
  t.delay = std::chrono::seconds(30);
  auto r = tasks.enqueue(t);
  BOOST_TEST(r.created);
  auto stored = tasks.find(r.id);
  BOOST_REQUIRE(stored);
  BOOST_TEST(stored->status == TaskStatus::pending);
  BOOST_TEST(stored->max_attempts == 10);
  BOOST_TEST(stored->run_at == clock.now() + 30'000);
  BOOST_TEST(stored->created_at == clock.now());
  BOOST_TEST(stored->payload == t.payload);
  BOOST_TEST(queues.exists("default"));
  auto all = queues.status(clock.now());
  BOOST_REQUIRE(all.size() == 1u);
  BOOST_TEST(!all[0].paused);
}

BOOST_FIXTURE_TEST_CASE(an_invalid_payload_is_rejected_and_nothing_is_stored, ContractFixture) {
  NewTask t;
  t.type = "mail";
  t.payload = "{nope";
  BOOST_CHECK_EXCEPTION(tasks.enqueue(t), Error, [](const Error& e) { return e.code() == ExitCode::data_error; });
  BOOST_TEST(count_tasks("default") == 0u);
  BOOST_TEST(queues.status(clock.now()).empty());
}

BOOST_FIXTURE_TEST_CASE(a_batch_is_all_or_nothing, ContractFixture) {
  std::vector<NewTask> batch(3);
  for (auto& t : batch) t.type = "a";
  batch[2].payload = "[1,";
  BOOST_CHECK_THROW(tasks.enqueue_batch(batch), Error);
  BOOST_TEST(count_tasks("default") == 0u);
  batch[2].payload = "[1]";
  auto ids = tasks.enqueue_batch(batch);
  BOOST_TEST(ids.size() == 3u);
  BOOST_TEST(count_tasks("default") == 3u);
}

BOOST_FIXTURE_TEST_CASE(a_unique_key_dedupes_while_the_task_is_active, ContractFixture) {
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
  // One batch naming the key twice creates one task.
  NewTask other = t;
  other.unique_key = "weekly";
  std::vector<NewTask> batch{other, other};
  auto both = tasks.enqueue_batch(batch);
  BOOST_TEST(both[0].created);
  BOOST_TEST(!both[1].created);
  BOOST_TEST(both[1].id == both[0].id);
}

// --- Claim

BOOST_FIXTURE_TEST_CASE(claim_order_is_priority_then_run_at_then_id, ContractFixture) {
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

BOOST_FIXTURE_TEST_CASE(claim_only_takes_from_the_named_unpaused_queues, ContractFixture) {
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
  BOOST_TEST(!tasks.claim({}, "w").has_value());
}

BOOST_FIXTURE_TEST_CASE(claim_sets_a_lease_with_a_random_token, ContractFixture) {
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
  BOOST_TEST(a->task.status == TaskStatus::running);
  BOOST_TEST(*a->task.lease_owner == "w1");
  auto stored = tasks.find(a->task.id);
  BOOST_REQUIRE(stored);
  BOOST_TEST(*stored->lease_owner == "w1");
  BOOST_TEST(stored->lease_expires_at.value_or(-1) == a->lease.expires_at);
  BOOST_TEST(under_test->sql_text("SELECT lease_token FROM tasks WHERE id = " + std::to_string(a->task.id)) ==
             a->lease.token);
}

BOOST_FIXTURE_TEST_CASE(a_per_queue_lease_overrides_the_default, ContractFixture) {
  config.queues["slow"] = config.queue;
  config.queues["slow"].lease = std::chrono::minutes(5);
  add("slow");
  add("default");
  std::array<std::string, 2> both{"slow", "default"};
  auto c = tasks.claim(both, "w");
  auto d = tasks.claim(both, "w");
  BOOST_REQUIRE(c);
  BOOST_REQUIRE(d);
  BOOST_TEST(c->task.queue == "slow");
  BOOST_TEST(c->lease.expires_at == clock.now() + 300'000);
  BOOST_TEST(d->lease.expires_at == clock.now() + 30'000);
  clock.advance(60'000);
  BOOST_TEST(tasks.reclaim_expired() == 1);  // the default one only
  BOOST_TEST(tasks.find(c->task.id)->status == TaskStatus::running);
}

BOOST_FIXTURE_TEST_CASE(a_lease_length_given_to_claim_and_renew_overrides_the_queues, ContractFixture) {
  add();
  add();
  auto given = tasks.claim(k_default, "w", std::chrono::minutes(5));
  auto queues_own = tasks.claim(k_default, "w");
  BOOST_REQUIRE(given);
  BOOST_REQUIRE(queues_own);
  BOOST_TEST(given->lease.expires_at == clock.now() + 300'000);
  BOOST_TEST(tasks.find(given->task.id)->lease_expires_at.value_or(-1) == clock.now() + 300'000);
  BOOST_TEST(queues_own->lease.expires_at == clock.now() + 30'000);
  clock.advance(1'000);
  BOOST_TEST(tasks.renew(given->lease, "default", std::chrono::seconds(2)));
  BOOST_TEST(given->lease.expires_at == clock.now() + 2'000);
  BOOST_TEST(tasks.find(given->task.id)->lease_expires_at.value_or(-1) == clock.now() + 2'000);
  BOOST_TEST(tasks.renew(given->lease, "default"));
  BOOST_TEST(given->lease.expires_at == clock.now() + 30'000);
}

BOOST_FIXTURE_TEST_CASE(holds_is_true_for_the_current_unexpired_lease_only, ContractFixture) {
  add();
  auto c = tasks.claim(k_default, "w");
  BOOST_REQUIRE(c);
  BOOST_TEST(tasks.holds(c->lease));
  BOOST_TEST(!tasks.holds(Lease{c->task.id, "not-the-token", 0}));
  BOOST_TEST(!tasks.holds(Lease{c->task.id + 1, c->lease.token, 0}));
  clock.advance(30'000);
  BOOST_TEST(tasks.holds(c->lease));  // up to its expiry
  clock.advance(1);
  BOOST_TEST(!tasks.holds(c->lease));
  BOOST_TEST((tasks.complete(c->lease, "late") == Fence::applied));  // a worker's write still applies until a reclaim
  BOOST_TEST(!tasks.holds(c->lease));
}

// --- Completion, failure, leases

BOOST_FIXTURE_TEST_CASE(complete_keeps_the_result_and_an_attempt_row, ContractFixture) {
  auto id = add();
  auto c = tasks.claim(k_default, "w1");
  clock.advance(250);
  BOOST_TEST((tasks.complete(c->lease, "done") == Fence::applied));
  auto t = tasks.find(id);
  BOOST_TEST(t->status == TaskStatus::succeeded);
  BOOST_TEST(*t->result == "done");
  BOOST_TEST(*t->finished_at == clock.now());
  BOOST_TEST(!t->lease_expires_at);
  auto history = tasks.attempts(id);
  BOOST_REQUIRE(history.size() == 1u);
  BOOST_TEST(history[0].outcome == "succeeded");
  BOOST_TEST(*history[0].worker == "w1");
  BOOST_TEST(history[0].exit_code.value_or(-1) == 0);
  BOOST_TEST(history[0].ended_at - *history[0].started_at == 250);
  auto totals = queues.stats("default", clock.now())->status.totals;
  BOOST_TEST(totals.runs == 1);
  BOOST_TEST(totals.run_ms == 250);
  BOOST_TEST(totals.failures == 0);
}

BOOST_FIXTURE_TEST_CASE(a_failure_is_retried_after_the_backoff_delay, ContractFixture) {
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
  BOOST_TEST(queues.stats("default", clock.now())->status.totals.failures == 2);
}

BOOST_FIXTURE_TEST_CASE(jitter_only_ever_shortens_the_delay, ContractFixture) {
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

BOOST_FIXTURE_TEST_CASE(max_attempts_dead_letters_with_the_last_error, ContractFixture) {
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
  BOOST_TEST(dead->finished_at.has_value());
  BOOST_TEST(tasks.attempts(id).size() == 3u);
  BOOST_TEST(tasks.attempts(id)[2].exit_code.value_or(-1) == 2);
  BOOST_TEST(!tasks.claim(k_default, "w").has_value());
}

BOOST_FIXTURE_TEST_CASE(a_permanent_failure_is_dead_at_once, ContractFixture) {
  auto id = add();
  auto c = tasks.claim(k_default, "w");
  auto outcome = tasks.fail(c->lease, {policy::FailureKind::permanent, "exit 65", 65});
  BOOST_TEST(outcome.status == TaskStatus::dead);
  BOOST_TEST(tasks.find(id)->attempts == 1);
  BOOST_TEST(tasks.attempts(id)[0].outcome == "permanent");
}

BOOST_FIXTURE_TEST_CASE(an_expired_lease_is_reclaimed_and_counts_as_an_attempt, ContractFixture) {
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
  BOOST_TEST(log_text().find(fmt::format("task {}: lease of worker 'killed-worker' expired, reclaimed as a failed "
                                         "attempt (pending)",
                                         id)) != std::string::npos);
  clock.advance(1000);
  auto retried = tasks.claim(k_default, "w2");
  BOOST_REQUIRE(retried);
  BOOST_TEST(retried->task.attempts == 2);
}

BOOST_FIXTURE_TEST_CASE(a_stale_token_can_neither_complete_nor_fail, ContractFixture) {
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
  BOOST_TEST((tasks.release(old->lease) == Fence::stale));
  auto t = tasks.find(id);
  BOOST_TEST(t->status == TaskStatus::running);
  BOOST_TEST(*t->lease_owner == "w2");
  BOOST_TEST(tasks.attempts(id).size() == 1u);  // the lost run only
  BOOST_TEST((tasks.complete(fresh->lease, "ok") == Fence::applied));
  BOOST_TEST(*tasks.find(id)->result == "ok");
  BOOST_TEST((tasks.complete(fresh->lease, "twice") == Fence::stale));
  const std::string log = log_text();
  BOOST_TEST(log.find(fmt::format("task {}: late completion rejected, its lease is no longer current", id)) !=
             std::string::npos);
  BOOST_TEST(log.find(fmt::format("task {}: late failure rejected, its lease is no longer current", id)) !=
             std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(renewal_extends_the_lease_past_its_first_expiry, ContractFixture) {
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

BOOST_FIXTURE_TEST_CASE(release_hands_the_task_back_without_counting_the_run, ContractFixture) {
  auto id = add();
  auto c = tasks.claim(k_default, "w");
  BOOST_TEST((tasks.release(c->lease) == Fence::applied));
  auto t = tasks.find(id);
  BOOST_TEST(t->status == TaskStatus::pending);
  BOOST_TEST(t->attempts == 0);
  BOOST_TEST(tasks.attempts(id).empty());
  BOOST_TEST((tasks.release(c->lease) == Fence::stale));
}

// --- Cancel, requeue, history

BOOST_FIXTURE_TEST_CASE(cancel_applies_to_pending_tasks_only, ContractFixture) {
  auto pending = add();
  auto running = add();
  tasks.cancel(pending);
  BOOST_TEST(tasks.find(pending)->status == TaskStatus::cancelled);
  tasks.claim(k_default, "w");
  std::string not_pending;
  try {
    tasks.cancel(running);
  } catch (const Error& e) {
    BOOST_TEST((e.code() == ExitCode::problem_reported));
    not_pending = e.what();
  }
  BOOST_TEST(not_pending == fmt::format("task {} is running; only pending tasks can be cancelled", running));
  BOOST_CHECK_EXCEPTION(tasks.cancel(999), Error, [](const Error& e) { return e.code() == ExitCode::no_input; });
  BOOST_TEST(count_events("task.cancel") == 1);
  BOOST_TEST(under_test->sql_text("SELECT object FROM events WHERE kind = 'task.cancel'") ==
             fmt::format("task/{}", pending));
}

BOOST_FIXTURE_TEST_CASE(requeue_brings_dead_tasks_back_with_attempts_reset, ContractFixture) {
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
  BOOST_TEST(!t->finished_at);
  BOOST_TEST(tasks.find(other_dead)->status == TaskStatus::dead);
  BOOST_TEST(count_events("task.requeue") == 1);
  std::array<TaskId, 1> not_dead{dead_id};
  BOOST_CHECK_EXCEPTION(tasks.requeue(not_dead, {}, DryRun::no), Error,
                        [](const Error& e) { return e.code() == ExitCode::problem_reported; });
  std::array<TaskId, 1> unknown{999};
  BOOST_CHECK_EXCEPTION(tasks.requeue(unknown, {}, DryRun::no), Error,
                        [](const Error& e) { return e.code() == ExitCode::no_input; });
  auto by_queue = tasks.requeue({}, {std::string("other"), std::nullopt, std::nullopt}, DryRun::no);
  BOOST_TEST(by_queue == std::vector<TaskId>{other_dead});
}

// A dead task whose unique key a newer active task holds cannot come back beside it (the unique index allows one
// pending or running task per key): 1 with a line naming both, nothing requeued, dry run or not; also two dead
// tasks of the same key in one requeue. (It was SQLite's raw UNIQUE constraint message.)
BOOST_FIXTURE_TEST_CASE(a_requeue_whose_unique_key_is_taken_is_refused_and_changes_nothing, ContractFixture) {
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
      "task {} cannot be requeued: task {} (pending) holds its unique key 'daily' in queue 'default'", first, second);
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
  BOOST_TEST(count_tasks("default", TaskStatus::dead) == 2u);
  std::array<TaskId, 1> one{second};
  BOOST_TEST(tasks.requeue(one, {}, DryRun::no) == std::vector<TaskId>{second});  // one alone comes back
}

// A requeue of every dead task (no ids) commits k_requeue_batch tasks at a time: after each batch, another
// connection sees them pending while the rest is still dead. Its progress is 0 of the total counted first with the
// filter (the other queue's dead task is not in it), then the tasks done after each batch, the last all of them;
// the ids, rows and events are those one transaction made, newest first.
BOOST_FIXTURE_TEST_CASE(a_requeue_of_all_commits_in_batches_and_reports_its_progress, ContractFixture) {
  const auto count = static_cast<std::uint64_t>(2 * k_requeue_batch + 500);
  std::vector<NewTask> batch(static_cast<std::size_t>(count));
  for (auto& t : batch) t.type = "job";
  (void)tasks.enqueue_batch(batch);
  auto elsewhere = add("other");
  under_test->sql_exec("UPDATE tasks SET status = 'dead', finished_at = 1700000000000, last_error = 'boom'");
  clock.advance(1000);
  auto other = under_test->connect();
  std::vector<std::uint64_t> done;
  std::vector<std::uint64_t> totals;
  std::vector<std::uint64_t> seen_pending;  // by the other connection, at each report
  auto progress = [&](const util::ProgressReport& r) {
    BOOST_TEST((r.unit == util::ProgressUnit::tasks));
    BOOST_TEST(r.stage.empty());
    done.push_back(r.done);
    totals.push_back(r.total.value_or(0));
    seen_pending.push_back(other->tasks().list("default", TaskStatus::pending, -1).size());
  };
  auto ids = tasks.requeue({}, {std::string("default"), std::nullopt, std::nullopt}, DryRun::no, progress);
  const std::vector<std::uint64_t> after_each_batch{0, 1000, 2000, count};
  BOOST_TEST(done == after_each_batch, boost::test_tools::per_element());
  BOOST_TEST(seen_pending == after_each_batch, boost::test_tools::per_element());
  BOOST_TEST(totals == std::vector<std::uint64_t>(4, count), boost::test_tools::per_element());
  BOOST_REQUIRE(ids.size() == count);
  BOOST_TEST((std::adjacent_find(ids.begin(), ids.end(), std::less_equal<>()) == ids.end()));  // newest first
  BOOST_TEST(ids.front() == elsewhere - 1);
  BOOST_TEST(count_tasks("default", TaskStatus::pending) == count);
  BOOST_TEST(under_test->sql_int("SELECT count(*) FROM tasks WHERE replays = 1 AND attempts = 0 AND run_at = " +
                                 std::to_string(clock.now())) == static_cast<std::int64_t>(count));
  BOOST_TEST(count_events("task.requeue") == static_cast<std::int64_t>(count));
  BOOST_TEST(tasks.find(elsewhere)->status == TaskStatus::dead);
  // Nothing left to do: no batch, one report (0 of 0).
  done.clear();
  totals.clear();
  BOOST_TEST(tasks.requeue({}, {std::string("default"), std::nullopt, std::nullopt}, DryRun::no, progress).empty());
  BOOST_TEST(done == std::vector<std::uint64_t>{0}, boost::test_tools::per_element());
  BOOST_TEST(totals == std::vector<std::uint64_t>{0}, boost::test_tools::per_element());
}

// The unique keys of the whole selection are checked before the first batch: two dead tasks of one key, the newest
// and the oldest (batches apart), are refused whole; nothing is requeued and nothing reported.
BOOST_FIXTURE_TEST_CASE(a_batched_requeue_refused_by_its_keys_changes_nothing, ContractFixture) {
  NewTask keyed;
  keyed.type = "digest";
  keyed.unique_key = "daily";
  auto oldest = tasks.enqueue(keyed).id;
  under_test->sql_exec("UPDATE tasks SET status = 'dead', finished_at = 1700000000000, last_error = 'boom'");
  std::vector<NewTask> batch(static_cast<std::size_t>(k_requeue_batch), keyed);
  for (auto& t : batch) t.unique_key.reset();
  (void)tasks.enqueue_batch(batch);
  auto newest = tasks.enqueue(keyed).id;  // the key is free again: its holder is dead
  under_test->sql_exec("UPDATE tasks SET status = 'dead', finished_at = 1700000000000, last_error = 'boom'");
  int reports = 0;
  std::string refusal;
  try {
    (void)tasks.requeue({}, {}, DryRun::no, [&](const util::ProgressReport&) { ++reports; });
  } catch (const Error& e) {
    BOOST_TEST((e.code() == ExitCode::problem_reported));
    refusal = e.what();
  }
  BOOST_TEST(refusal.find(fmt::format("task {} cannot be requeued: task {} (dead, requeued by the same command)",
                                      oldest, newest)) == 0,
             refusal);
  BOOST_TEST(refusal.find("nothing is requeued") != std::string::npos, refusal);
  BOOST_TEST(reports == 0);
  BOOST_TEST(count_tasks("default", TaskStatus::dead) == static_cast<std::size_t>(k_requeue_batch + 2));
  BOOST_TEST(count_events("task.requeue") == 0);
}

// Only a key taken after that check refuses a later batch, which changes nothing of its own: the earlier batches
// stay requeued, and the message says how many. Here another connection enqueues a task of the oldest dead task's
// key once the first batch is committed.
BOOST_FIXTURE_TEST_CASE(a_key_taken_between_batches_refuses_the_rest_and_keeps_the_earlier_batches, ContractFixture) {
  NewTask keyed;
  keyed.type = "digest";
  keyed.unique_key = "daily";
  auto oldest = tasks.enqueue(keyed).id;
  std::vector<NewTask> batch(static_cast<std::size_t>(k_requeue_batch), keyed);
  for (auto& t : batch) t.unique_key.reset();
  (void)tasks.enqueue_batch(batch);
  under_test->sql_exec("UPDATE tasks SET status = 'dead', finished_at = 1700000000000, last_error = 'boom'");
  auto other = under_test->connect();
  std::optional<TaskId> holder;
  auto progress = [&](const util::ProgressReport& r) {
    if (r.done == static_cast<std::uint64_t>(k_requeue_batch)) holder = other->tasks().enqueue(keyed).id;
  };
  std::string refusal;
  try {
    (void)tasks.requeue({}, {}, DryRun::no, progress);
  } catch (const Error& e) {
    BOOST_TEST((e.code() == ExitCode::problem_reported));
    refusal = e.what();
  }
  BOOST_REQUIRE(holder);
  BOOST_TEST(refusal.find(fmt::format("task {} cannot be requeued: task {} (pending) holds its unique key 'daily'",
                                      oldest, *holder)) == 0,
             refusal);
  BOOST_TEST(refusal.find("1000 tasks of its earlier batches stay requeued, no other is") != std::string::npos,
             refusal);
  BOOST_TEST(tasks.find(oldest)->status == TaskStatus::dead);
  BOOST_TEST(count_tasks("default", TaskStatus::pending) == static_cast<std::size_t>(k_requeue_batch + 1));
  BOOST_TEST(count_events("task.requeue") == k_requeue_batch);
}

// Every run stays in the history across a replay: fail (max attempts 1), requeue, fail again: two rows, in
// order, the second marked with its replay. (Rows were keyed by attempt number, which a replay resets, so the
// second run replaced the first.)
BOOST_FIXTURE_TEST_CASE(the_history_keeps_every_run_across_replays, ContractFixture) {
  NewTask task;
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

// --- Purge

BOOST_FIXTURE_TEST_CASE(purge_deletes_finished_tasks_past_their_retention, ContractFixture) {
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
  BOOST_TEST(count_tasks("default") == 3u);
  BOOST_TEST(count_events("task.purge") == 0);
  auto done = tasks.purge({});
  BOOST_TEST(done.dead == 1);
  BOOST_TEST(done.succeeded == 1);
  BOOST_TEST(!tasks.find(old_done).has_value());
  BOOST_TEST(!tasks.find(old_dead).has_value());
  BOOST_TEST(tasks.find(fresh).has_value());
  BOOST_TEST(under_test->sql_int("SELECT count(*) FROM task_attempts") == 1);  // cascaded
  BOOST_TEST(under_test->sql_text("SELECT detail FROM events WHERE kind = 'task.purge'") ==
             "1 dead and 1 succeeded tasks deleted");
  auto counts = queues.stats("default", clock.now())->status.counts;
  BOOST_TEST(counts.succeeded == 1);
  BOOST_TEST(counts.dead == 0);
}

BOOST_FIXTURE_TEST_CASE(purge_of_dead_tasks_only_keeps_the_succeeded_ones, ContractFixture) {
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
  BOOST_TEST(queues.stats("default", clock.now())->status.counts.dead == 0);
}

// --- Queries

BOOST_FIXTURE_TEST_CASE(next_run_at_is_the_earliest_pending_run_at_of_the_listed_queues, ContractFixture) {
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

BOOST_FIXTURE_TEST_CASE(next_run_at_ignores_paused_queues, ContractFixture) {
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

BOOST_FIXTURE_TEST_CASE(next_run_at_ignores_a_queue_whose_breaker_is_open_until_its_cooldown_ends, ContractFixture) {
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
  BOOST_REQUIRE((breaker_state("flaky") == policy::BreakerState::open));
  BOOST_TEST(tasks.find(id)->status == TaskStatus::pending);
  BOOST_TEST(!tasks.next_run_at(flaky).has_value());
  BOOST_TEST(tasks.next_run_at(both).value_or(-1) == clock.now());  // the default task
  clock.advance(60'000);  // the cooldown is over: a probe may run, the task counts again
  BOOST_TEST(tasks.next_run_at(flaky).value_or(-1) == tasks.find(id)->run_at);
}

BOOST_FIXTURE_TEST_CASE(runnable_count_counts_pending_tasks_that_are_due, ContractFixture) {
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

BOOST_FIXTURE_TEST_CASE(list_pages_newest_first_by_queue_and_status, ContractFixture) {
  std::vector<TaskId> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(add());
  add("other");
  auto c = tasks.claim(k_default, "w");  // ids[0]
  tasks.fail(c->lease, {policy::FailureKind::permanent, "bad \"input\" here", 1});
  auto all = tasks.list("default", std::nullopt, -1);
  BOOST_REQUIRE(all.size() == 5u);
  BOOST_TEST(all.front().id == ids[4]);
  BOOST_TEST(all.back().id == ids[0]);
  auto page = tasks.list("default", TaskStatus::pending, 2, ids[3]);
  BOOST_REQUIRE(page.size() == 2u);
  BOOST_TEST(page[0].id == ids[2]);
  BOOST_TEST(page[1].id == ids[1]);
  auto dead = tasks.list("default", TaskStatus::dead, 10);
  BOOST_REQUIRE(dead.size() == 1u);
  BOOST_TEST(dead[0].id == ids[0]);
  BOOST_TEST(tasks.list_dead({std::nullopt, std::nullopt, "\"input\""}, 10).size() == 1u);
  BOOST_TEST(tasks.list_dead({std::nullopt, std::nullopt, "INPUT"}, 10).empty());  // case-sensitive
  BOOST_TEST(tasks.list_dead({std::string("other"), std::nullopt, std::nullopt}, 10).empty());
  BOOST_TEST(tasks.list_dead({std::nullopt, std::string("job"), std::nullopt}, -1).size() == 1u);
  BOOST_TEST(tasks.list_dead({}, 10, ids[0]).empty());
}

// --- The shell completion's reads (queue/id_completion.hpp, QueueStore::names)

BOOST_FIXTURE_TEST_CASE(ids_between_walks_a_range_down_and_filters_by_status_within_its_window, ContractFixture) {
  std::vector<TaskId> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(add());
  BOOST_REQUIRE(tasks.claim(k_default, "w"));  // ids[0] runs
  using Ids = std::vector<TaskId>;
  BOOST_TEST((tasks.ids_between(ids[0], ids[4], std::nullopt, 3, 100) == Ids{ids[4], ids[3], ids[2]}));
  BOOST_TEST((tasks.ids_between(ids[1], ids[3], std::nullopt, 10, 100) == Ids{ids[3], ids[2], ids[1]}));
  BOOST_TEST((tasks.ids_between(ids[0], ids[4], TaskStatus::running, 10, 100) == Ids{ids[0]}));
  BOOST_TEST((tasks.ids_between(ids[0], ids[4], TaskStatus::pending, 10, 2) == Ids{ids[4], ids[3]}));
  // The running task is not among the window's two newest rows: not read.
  BOOST_TEST(tasks.ids_between(ids[0], ids[4], TaskStatus::running, 10, 2).empty());
  BOOST_TEST(tasks.ids_between(ids[4] + 1, ids[4] + 100, std::nullopt, 10, 100).empty());
}

BOOST_FIXTURE_TEST_CASE(complete_ids_gives_the_newest_ids_that_start_with_the_digits, ContractFixture) {
  std::vector<TaskId> ids;
  for (int i = 0; i < 12; ++i) ids.push_back(add());
  BOOST_REQUIRE(ids.front() == 1);  // a fresh database: the ids are 1 to 12
  using Ids = std::vector<TaskId>;
  BOOST_TEST((complete_ids(tasks, "1", std::nullopt, 50) == Ids{12, 11, 10, 1}));
  BOOST_TEST((complete_ids(tasks, "1", std::nullopt, 2) == Ids{12, 11}));
  BOOST_TEST((complete_ids(tasks, "", std::nullopt, 3) == Ids{12, 11, 10}));
  BOOST_TEST((complete_ids(tasks, "2", std::nullopt, 50) == Ids{2}));
  BOOST_TEST(complete_ids(tasks, "3x", std::nullopt, 50).empty());
  BOOST_TEST(complete_ids(tasks, "13", std::nullopt, 50).empty());
  BOOST_REQUIRE(tasks.claim(k_default, "w"));  // task 1 runs
  BOOST_TEST((complete_ids(tasks, "1", TaskStatus::pending, 50) == Ids{12, 11, 10}));
  BOOST_TEST((complete_ids(tasks, "", TaskStatus::running, 50) == Ids{1}));
}

BOOST_FIXTURE_TEST_CASE(names_are_the_known_queues_sorted, ContractFixture) {
  BOOST_TEST(queues.names().empty());
  add("mail");
  add("images");
  add("mail");
  config.queues["zeta"] = config.queue;  // a [queues.zeta] table without tasks
  BOOST_TEST((queues.names() == std::vector<std::string>{"images", "mail", "zeta"}));
}

// --- record_and_claim: the worker's fused transaction, the outcome of one run and the claim of the next

BOOST_FIXTURE_TEST_CASE(record_and_claim_records_the_outcome_and_claims_the_next_task, ContractFixture) {
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
  BOOST_TEST(tasks.attempts(first).size() + tasks.attempts(second).size() + tasks.attempts(third).size() == 3u);
}

BOOST_FIXTURE_TEST_CASE(record_and_claim_with_a_stale_lease_changes_nothing_but_still_claims, ContractFixture) {
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
  auto failed =
      tasks.record_and_claim(stale, {false, "", {policy::FailureKind::permanent, "late", 1}}, k_default, "w1");
  BOOST_TEST(failed.recorded.fence == Fence::stale);
  BOOST_TEST(tasks.find(first)->status == TaskStatus::running);
  BOOST_TEST(tasks.attempts(first).empty());
}

BOOST_FIXTURE_TEST_CASE(record_and_claim_takes_the_next_task_in_claim_order_across_unpaused_queues, ContractFixture) {
  auto first = add("default", 1);
  auto low = add("default", 0);
  auto high = add("other", 5);
  add("slow", 9);
  queues.set_paused("slow", true, clock.now());
  const std::array<std::string, 3> mine{"default", "other", "slow"};
  auto a = tasks.claim(mine, "w");
  BOOST_REQUIRE(a);
  BOOST_TEST(a->task.id == high);
  auto b = tasks.record_and_claim(a->lease, {true, "", {}}, mine, "w");
  BOOST_REQUIRE(b.next);
  BOOST_TEST(b.next->task.id == first);
  auto c = tasks.record_and_claim(b.next->lease, {true, "", {}}, mine, "w");
  BOOST_REQUIRE(c.next);
  BOOST_TEST(c.next->task.id == low);  // never the paused queue's, whatever its priority
  auto d = tasks.record_and_claim(c.next->lease, {true, "", {}}, mine, "w");
  BOOST_TEST(!d.next);
  BOOST_TEST(count_tasks("slow", TaskStatus::pending) == 1u);
  BOOST_TEST(count_tasks("default", TaskStatus::succeeded) + count_tasks("other", TaskStatus::succeeded) == 3u);
}

BOOST_FIXTURE_TEST_CASE(record_and_claim_closes_the_breaker_its_probe_succeeds_on_and_claims_on, ContractFixture) {
  config.queue.max_attempts = 1;
  for (int i = 0; i < 13; ++i) add();
  for (int i = 0; i < 10; ++i) fail_one();
  clock.advance(60'000);
  auto probe = tasks.claim(k_default, "w");
  BOOST_REQUIRE(probe);
  BOOST_TEST(probe->probe);
  auto after = tasks.record_and_claim(probe->lease, {true, "", {}}, k_default, "w");
  BOOST_TEST(after.recorded.fence == Fence::applied);
  BOOST_TEST((breaker_state() == policy::BreakerState::closed));
  BOOST_REQUIRE(after.next);  // the closed breaker admits the next task in the same call
  BOOST_TEST(!after.next->probe);
}

BOOST_FIXTURE_TEST_CASE(record_and_claim_passes_a_queue_whose_breaker_is_open_and_its_success_resets_failures,
                        ContractFixture) {
  config.queue.max_attempts = 1;
  for (int i = 0; i < 11; ++i) add();
  for (int i = 0; i < 10; ++i) fail_one();  // default's breaker opens
  auto other = add("other");
  auto second = add("other");
  const std::array<std::string, 2> both{"default", "other"};
  auto a = tasks.claim(both, "w");
  BOOST_REQUIRE(a);
  BOOST_TEST(a->task.id == other);
  tasks.fail(a->lease, {policy::FailureKind::permanent, "boom", 1});
  BOOST_TEST(breakers.load("queue", "other").consecutive_failures == 1);
  auto b = tasks.claim(both, "w");
  BOOST_REQUIRE(b);
  BOOST_TEST(b->task.id == second);
  auto c = tasks.record_and_claim(b->lease, {true, "", {}}, both, "w");
  BOOST_TEST(!c.next);  // default's tasks wait for its breaker
  BOOST_TEST(breakers.load("queue", "other").consecutive_failures == 0);
  BOOST_TEST((breaker_state() == policy::BreakerState::open));
}

// --- Breakers

BOOST_FIXTURE_TEST_CASE(ten_consecutive_failures_open_the_breaker_and_stop_claims, ContractFixture) {
  config.queue.max_attempts = 1;
  for (int i = 0; i < 12; ++i) add();
  for (int i = 0; i < 9; ++i) fail_one();
  BOOST_TEST((breaker_state() == policy::BreakerState::closed));
  fail_one();
  auto b = breakers.load("queue", "default");
  BOOST_TEST((b.state == policy::BreakerState::open));
  BOOST_TEST(b.consecutive_failures == 10);
  BOOST_TEST(!tasks.claim(k_default, "w").has_value());  // two tasks left, both held back
  BOOST_TEST(count_tasks("default", TaskStatus::pending) == 2u);
  BOOST_TEST(under_test->sql_int("SELECT count(*) FROM events WHERE kind = 'breaker.open' AND object = "
                                 "'queue/default'") == 1);
  BOOST_TEST(log_text().find("breaker queue/default closed -> open after 10 consecutive failures; cooldown 60s") !=
             std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(a_success_resets_the_failure_count, ContractFixture) {
  config.queue.max_attempts = 1;
  for (int i = 0; i < 20; ++i) add();
  for (int i = 0; i < 9; ++i) fail_one();
  auto c = tasks.claim(k_default, "w");
  tasks.complete(c->lease, "");
  BOOST_TEST(breakers.load("queue", "default").consecutive_failures == 0);
  for (int i = 0; i < 9; ++i) fail_one();
  BOOST_TEST((breaker_state() == policy::BreakerState::closed));
}

BOOST_FIXTURE_TEST_CASE(after_the_cooldown_one_probe_runs_and_its_success_closes_the_breaker, ContractFixture) {
  config.queue.max_attempts = 1;
  for (int i = 0; i < 13; ++i) add();
  for (int i = 0; i < 10; ++i) fail_one();
  clock.advance(60'000);
  auto probe = tasks.claim(k_default, "w");
  BOOST_REQUIRE(probe);
  BOOST_TEST(probe->probe);
  BOOST_TEST((breaker_state() == policy::BreakerState::half_open));
  BOOST_TEST(!tasks.claim(k_default, "w2").has_value());  // only one probe at a time
  tasks.complete(probe->lease, "");
  BOOST_TEST((breaker_state() == policy::BreakerState::closed));
  auto next = tasks.claim(k_default, "w2");
  BOOST_REQUIRE(next);
  BOOST_TEST(!next->probe);
}

BOOST_FIXTURE_TEST_CASE(a_failed_probe_reopens_with_a_doubled_cooldown, ContractFixture) {
  config.queue.max_attempts = 1;
  for (int i = 0; i < 13; ++i) add();
  for (int i = 0; i < 10; ++i) fail_one();
  clock.advance(60'000);
  fail_one();  // the probe fails
  auto b = breakers.load("queue", "default");
  BOOST_TEST((b.state == policy::BreakerState::open));
  BOOST_TEST(b.cooldown_ms == 120'000);
  clock.advance(119'000);
  BOOST_TEST(!tasks.claim(k_default, "w").has_value());
  clock.advance(1'000);
  BOOST_TEST(tasks.claim(k_default, "w").has_value());
}

BOOST_FIXTURE_TEST_CASE(temporary_failures_do_not_count_against_the_breaker, ContractFixture) {
  config.queue.backoff_seconds = {0};
  config.queue.max_attempts = 100;
  auto id = add();
  for (int i = 0; i < 15; ++i) {
    auto c = tasks.claim(k_default, "w");
    BOOST_REQUIRE(c);
    tasks.fail(c->lease, {policy::FailureKind::temporary, "try later", 75});
  }
  BOOST_TEST(breakers.load("queue", "default").consecutive_failures == 0);
  BOOST_TEST(tasks.attempts(id).back().outcome == "temporary");
}

BOOST_FIXTURE_TEST_CASE(reset_closes_an_open_breaker_by_hand, ContractFixture) {
  config.queue.max_attempts = 1;
  for (int i = 0; i < 11; ++i) add();
  for (int i = 0; i < 10; ++i) fail_one();
  auto before = breakers.reset("queue", "default", clock.now());
  BOOST_TEST((before.state == policy::BreakerState::open));
  auto after = breakers.load("queue", "default");
  BOOST_TEST((after.state == policy::BreakerState::closed));
  BOOST_TEST(after.consecutive_failures == 0);
  BOOST_TEST(tasks.claim(k_default, "w").has_value());
  BOOST_TEST(count_events("breaker.reset") == 1);
  BOOST_TEST(breakers.changed_at("queue", "default").value_or(-1) == clock.now());
  BOOST_TEST(!breakers.changed_at("queue", "never").has_value());
}

BOOST_FIXTURE_TEST_CASE(breakers_are_per_queue, ContractFixture) {
  config.queue.max_attempts = 1;
  for (int i = 0; i < 10; ++i) add();
  add("other");
  for (int i = 0; i < 10; ++i) fail_one();
  std::array<std::string, 2> both{"default", "other"};
  auto c = tasks.claim(both, "w");
  BOOST_REQUIRE(c);
  BOOST_TEST(c->task.queue == "other");
}

// --- Queue status, alerts, pause, stats

BOOST_FIXTURE_TEST_CASE(status_counts_every_state_per_queue, ContractFixture) {
  config.queue.backoff_seconds = {60};
  const std::array<std::string, 1> mail{"mail"};
  std::vector<TaskId> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(add("mail"));
  add("images");
  auto c = tasks.claim(mail, "w");
  tasks.complete(c->lease, "");
  c = tasks.claim(mail, "w");
  tasks.fail(c->lease, {policy::FailureKind::permanent, "x", 1});
  c = tasks.claim(mail, "w");
  tasks.fail(c->lease, {policy::FailureKind::retryable, "x", 1});  // retrying, not runnable for 60 s
  tasks.claim(mail, "w");                                          // running
  clock.advance(5'000);
  tasks.cancel(ids[5]);
  auto all = queues.status(clock.now());
  BOOST_REQUIRE(all.size() == 2u);
  BOOST_TEST(all[0].name == "images");
  const auto& m = all[1].counts;
  BOOST_TEST(all[1].name == "mail");
  BOOST_TEST(m.succeeded == 1);
  BOOST_TEST(m.dead == 1);
  BOOST_TEST(m.pending == 2);  // the retrying task and the fifth
  BOOST_TEST(m.retrying == 1);
  BOOST_TEST(m.runnable == 1);  // the fifth only: the retry waits 60 s
  BOOST_TEST(m.running == 1);
  BOOST_TEST(m.cancelled == 1);
  BOOST_TEST(*m.oldest_runnable_since == clock.now() - 5'000);
  BOOST_TEST(all[0].counts.runnable == 1);
  BOOST_TEST(*all[0].counts.oldest_runnable_since == clock.now() - 5'000);
  BOOST_TEST(status_shown(all[1]) == status_by_scan("mail", clock.now()));
  // Run totals: three runs of mail, two of them failures.
  BOOST_TEST(all[1].totals.runs == 3);
  BOOST_TEST(all[1].totals.failures == 2);
  BOOST_TEST(all[0].totals.runs == 0);
}

BOOST_FIXTURE_TEST_CASE(a_queue_with_only_delayed_tasks_has_no_oldest_runnable_task, ContractFixture) {
  NewTask later;
  later.queue = "later";
  later.type = "job";
  later.delay = std::chrono::hours(1);
  for (int i = 0; i < 3; ++i) tasks.enqueue(later);
  auto all = queues.status(clock.now());
  BOOST_REQUIRE(all.size() == 1u);
  BOOST_TEST(all[0].counts.pending == 3);
  BOOST_TEST(all[0].counts.runnable == 0);
  BOOST_TEST(!all[0].counts.oldest_runnable_since.has_value());
}

BOOST_FIXTURE_TEST_CASE(a_queue_deeper_than_depth_alert_raises_an_alert, ContractFixture) {
  config.queue.depth_alert = 3;
  for (int i = 0; i < 3; ++i) add();
  BOOST_TEST(queues.status(clock.now())[0].alerts.empty());
  add();
  auto alerts = queues.status(clock.now())[0].alerts;
  BOOST_REQUIRE(alerts.size() == 1u);
  BOOST_TEST(alerts[0].find("depth 4") != std::string::npos);
}

// The breaker the store reads reaches the alerts (queue_alerts() itself: test_queue_store.cpp), and a breaker alone
// makes its queue known.
BOOST_FIXTURE_TEST_CASE(an_open_breaker_raises_an_alert_and_makes_its_queue_known, ContractFixture) {
  BOOST_TEST(!queues.exists("flaky"));
  for (int i = 0; i < config.breaker.failure_threshold; ++i) breakers.record_failure("queue", "flaky", clock.now());
  BOOST_TEST(queues.exists("flaky"));
  auto all = queues.status(clock.now());
  BOOST_REQUIRE(all.size() == 1u);
  BOOST_TEST(all[0].name == "flaky");
  BOOST_TEST((all[0].breaker.state == policy::BreakerState::open));
  BOOST_REQUIRE(all[0].alerts.size() == 1u);
  BOOST_TEST(all[0].alerts[0].find("breaker open") != std::string::npos, all[0].alerts[0]);
}

BOOST_FIXTURE_TEST_CASE(a_configured_queue_exists_and_has_a_status_without_rows, ContractFixture) {
  config.queues["mail"] = config.queue;
  BOOST_TEST(queues.exists("mail"));
  BOOST_TEST(!queues.exists("other"));
  auto all = queues.status(clock.now());
  BOOST_REQUIRE(all.size() == 1u);
  BOOST_TEST(all[0].name == "mail");
  BOOST_TEST(status_shown(all[0]) == "0 0 0 0 0 0 0 -1 ");
  BOOST_TEST(queues.stats("mail", clock.now()).has_value());
  BOOST_CHECK_THROW(queues.require_known("other"), Error);
}

BOOST_FIXTURE_TEST_CASE(pause_is_recorded_once_and_known_queues_exist, ContractFixture) {
  BOOST_TEST(!queues.exists("later"));
  BOOST_TEST(!queues.set_paused("later", false, clock.now()));  // not paused: nothing to do, no row
  BOOST_TEST(!queues.exists("later"));
  BOOST_TEST(queues.set_paused("later", true, clock.now()));
  BOOST_TEST(!queues.set_paused("later", true, clock.now()));
  BOOST_TEST(queues.exists("later"));
  BOOST_TEST(count_events("queue.pause") == 1);
  BOOST_TEST(queues.status(clock.now())[0].paused);
  BOOST_TEST(queues.set_paused("later", false, clock.now()));
  BOOST_TEST(!queues.set_paused("later", false, clock.now()));
  BOOST_TEST(count_events("queue.resume") == 1);
  BOOST_TEST(!queues.status(clock.now())[0].paused);
  auto log = log_text();
  BOOST_TEST(log.find("queue later paused") != std::string::npos, log);
  BOOST_TEST(log.find("queue later resumed") != std::string::npos, log);
}

BOOST_FIXTURE_TEST_CASE(stats_report_the_last_hours_runs_and_failures, ContractFixture) {
  config.queue.backoff_seconds = {0};
  for (int i = 0; i < 3; ++i) add();
  auto c = tasks.claim(k_default, "w");
  clock.advance(400);
  tasks.complete(c->lease, "");
  c = tasks.claim(k_default, "w");
  clock.advance(200);
  tasks.fail(c->lease, {policy::FailureKind::retryable, "x", 1});
  auto stats = queues.stats("default", clock.now());
  BOOST_REQUIRE(stats);
  BOOST_TEST(stats->status.name == "default");
  BOOST_TEST(stats->status.counts.pending == 2);
  BOOST_TEST(stats->runs_last_hour == 2);
  BOOST_TEST(stats->failures_last_hour == 1);
  BOOST_TEST(*stats->mean_run_ms == 300.0);
  clock.advance(62 * 60'000);  // counted per minute: gone once 61 whole minutes have passed
  BOOST_TEST(queues.stats("default", clock.now())->runs_last_hour == 0);
  BOOST_TEST(queues.stats("default", clock.now())->status.totals.runs == 2);  // the totals stay
  BOOST_TEST(!queues.stats("missing", clock.now()).has_value());
}

// The tasks that died since a time, per queue (oos-health). (Which index each backend reads it from: the plan
// checks of test_queue_store.cpp and test_pg_queue_store.cpp.)
BOOST_FIXTURE_TEST_CASE(dead_since_counts_the_tasks_dead_since_a_time_per_queue, ContractFixture) {
  // Since `since`, the last two deaths (60 and 120 s ago): mail's third, then images'.
  auto since = four_deaths_a_minute_apart(tasks, clock);
  auto dead = queues.dead_since(since);
  BOOST_TEST(dead.size() == 2u);
  BOOST_TEST(dead["mail"] == 1);
  BOOST_TEST(dead["images"] == 1);
  BOOST_TEST(under_test->sql_int("SELECT count(*) FROM tasks WHERE status = 'dead' AND finished_at >= " +
                                 std::to_string(since)) == 2);
  BOOST_TEST(queues.dead_since(clock.now()).empty());
}

// --- Counts

// A thousand random operations of every kind that changes a task's status, attempts or existence, on three queues;
// after every few, status equals what counting the rows shows.
BOOST_FIXTURE_TEST_CASE(status_equals_a_count_of_the_rows_after_every_operation, ContractFixture) {
  config.queue.backoff_jitter = 0;
  TaskStore& store = tasks;
  const std::vector<std::string> k_queues{"a", "b", "c"};
  std::mt19937 rng(15);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  std::vector<Lease> leases;
  auto new_task = [&] {
    NewTask t;
    t.queue = k_queues[static_cast<std::size_t>(pick(3))];
    t.type = "t";
    t.priority = pick(3);
    t.max_attempts = 1 + pick(3);
    if (pick(4) == 0) t.delay = util::Millis(pick(10'000));
    if (pick(3) == 0) t.unique_key = "k" + std::to_string(pick(4));
    return t;
  };
  auto take_lease = [&]() -> std::optional<Lease> {
    if (leases.empty()) return std::nullopt;
    auto i = static_cast<std::size_t>(pick(static_cast<int>(leases.size())));
    auto lease = leases[i];
    leases.erase(leases.begin() + static_cast<std::ptrdiff_t>(i));
    return lease;
  };
  auto some_id = [&](TaskStatus status) -> std::optional<TaskId> {
    std::vector<TaskId> ids;
    for (const auto& q : k_queues)
      for (const auto& t : store.list(q, status, -1)) ids.push_back(t.id);
    if (ids.empty()) return std::nullopt;
    return ids[static_cast<std::size_t>(pick(static_cast<int>(ids.size())))];
  };
  auto requeue = [&](std::span<const TaskId> ids, const DeadFilter& filter) -> bool {
    try {
      return !store.requeue(ids, filter, DryRun::no).empty();
    } catch (const Error& e) {
      BOOST_TEST_REQUIRE((e.code() == ExitCode::problem_reported), e.what());  // its unique key is taken
      return false;
    }
  };
  std::vector<int> kinds_done(13, 0);
  std::set<std::string> seen;  // statuses some queue showed tasks in
  std::int64_t retrying = 0;   // over all checks: retries waiting
  for (int step = 0; step < 1000; ++step) {
    int kind = pick(13);
    bool acted = false;
    switch (kind) {
      case 0: acted = store.enqueue(new_task()).created; break;
      case 1: {
        std::vector<NewTask> batch;
        for (int i = 0, n = 1 + pick(5); i < n; ++i) batch.push_back(new_task());
        for (const auto& r : store.enqueue_batch(batch)) acted = acted || r.created;
        break;
      }
      case 2:
      case 3:
        if (auto c = store.claim(k_queues, "w")) {
          leases.push_back(c->lease);
          acted = true;
        }
        break;
      case 4:
        if (auto l = take_lease()) acted = store.complete(*l, "ok") == Fence::applied;
        break;
      case 5:
        if (auto l = take_lease())
          acted = store.fail(*l, {policy::FailureKind::retryable, "again", 1}).fence == Fence::applied;
        break;
      case 6:
        if (auto l = take_lease())
          acted = store.fail(*l, {policy::FailureKind::permanent, "never", 2}).fence == Fence::applied;
        break;
      case 7:
        if (auto l = take_lease()) acted = store.release(*l) == Fence::applied;
        break;
      case 8:
        if (auto l = take_lease()) {
          RunRecord run;
          run.succeeded = pick(2) == 0;
          run.failure = {policy::FailureKind::retryable, "again", 1};
          auto r = store.record_and_claim(*l, run, k_queues, "w");
          acted = r.recorded.fence == Fence::applied;
          if (r.next) leases.push_back(r.next->lease);
        }
        break;
      case 9:  // leases held now expire: reclaimed as lost runs
        if (pick(8) == 0) {
          clock.advance(config.queue_settings("a").lease.count() + 1);
          acted = store.reclaim_expired() > 0;
        }
        break;
      case 10:
        if (auto id = some_id(pick(2) == 0 ? TaskStatus::dead : TaskStatus::pending)) {
          if (store.find(*id)->status == TaskStatus::dead) {
            const std::array<TaskId, 1> ids{*id};
            acted = requeue(ids, {});
          } else {
            store.cancel(*id);
            acted = true;
          }
        } else if (pick(2) == 0) {
          DeadFilter filter;
          filter.queue = k_queues[static_cast<std::size_t>(pick(3))];
          acted = requeue({}, filter);
        }
        break;
      case 11:
        if (pick(4) == 0) {
          PurgeOptions purge;
          purge.older_than = util::Millis(pick(20'000));
          purge.dead = pick(3) != 0;
          auto purged = store.purge(purge);
          acted = purged.dead + purged.succeeded > 0;
        }
        break;
      default:
        clock.advance(pick(3000));
        acted = true;
        break;
    }
    if (acted) ++kinds_done[static_cast<std::size_t>(kind)];
    if (step % 5 != 0 && kind != 9 && kind != 12) continue;
    for (const auto& s : queues.status(clock.now())) {
      BOOST_TEST_INFO("step " << step << ", operation " << kind << ", queue " << s.name);
      BOOST_REQUIRE_EQUAL(status_shown(s), status_by_scan(s.name, clock.now()));
      const auto& c = s.counts;
      if (c.pending > 0) seen.insert("pending");
      if (c.running > 0) seen.insert("running");
      if (c.succeeded > 0) seen.insert("succeeded");
      if (c.dead > 0) seen.insert("dead");
      if (c.cancelled > 0) seen.insert("cancelled");
      retrying += c.retrying;
      auto stats = queues.stats(s.name, clock.now());
      BOOST_REQUIRE(stats);
      BOOST_REQUIRE_EQUAL(status_shown(stats->status), status_shown(s));
    }
  }
  for (std::size_t kind = 0; kind < kinds_done.size(); ++kind)
    BOOST_TEST(kinds_done[kind] >= 5, "operation " << kind << " changed a task in " << kinds_done[kind] << " steps");
  BOOST_TEST(seen.size() == 5U);
  BOOST_TEST(retrying > 0);
}

// --- Worker registry

BOOST_FIXTURE_TEST_CASE(a_heartbeat_inserts_a_row_with_every_column, ContractFixture) {
  BOOST_TEST(workers.list().empty());
  workers.heartbeat("host-a:4242", 4242, "host-a", k_t0, k_t0 + 10, "idle on default; 0 tasks run", 0);
  auto rows = workers.list();
  BOOST_REQUIRE(rows.size() == 1u);
  BOOST_TEST(rows[0].name == "host-a:4242");
  BOOST_TEST(rows[0].pid == 4242);
  BOOST_TEST(rows[0].host == "host-a");
  BOOST_TEST(rows[0].started_at == k_t0);
  BOOST_TEST(rows[0].heartbeat_at == k_t0 + 10);
  BOOST_TEST(rows[0].status == "idle on default; 0 tasks run");
  BOOST_TEST(rows[0].tasks_run == 0);
}

BOOST_FIXTURE_TEST_CASE(the_next_heartbeat_updates_the_same_row, ContractFixture) {
  workers.heartbeat("1", 4242, "host-a", k_t0, k_t0, "idle", 0);
  workers.heartbeat("1", 4242, "host-a", k_t0, k_t0 + 10'000, "running task 7 (mail) for 2s", 3);
  auto rows = workers.list();
  BOOST_REQUIRE(rows.size() == 1u);
  BOOST_TEST(rows[0].heartbeat_at == k_t0 + 10'000);
  BOOST_TEST(rows[0].status == "running task 7 (mail) for 2s");
  BOOST_TEST(rows[0].tasks_run == 3);
  // A restarted instance (same name, new process) takes the row over.
  workers.heartbeat("1", 5000, "host-a", k_t0 + 60'000, k_t0 + 60'000, "idle", 0);
  rows = workers.list();
  BOOST_REQUIRE(rows.size() == 1u);
  BOOST_TEST(rows[0].pid == 5000);
  BOOST_TEST(rows[0].started_at == k_t0 + 60'000);
  BOOST_TEST(rows[0].tasks_run == 0);
}

// By name in byte order ("B" before "a").
BOOST_FIXTURE_TEST_CASE(list_is_by_name_and_remove_deletes_one_row, ContractFixture) {
  four_workers_out_of_order(workers, k_t0);
  auto rows = workers.list();
  BOOST_REQUIRE(rows.size() == 4u);
  BOOST_TEST(rows[0].name == "B");
  BOOST_TEST(rows[1].name == "a");
  BOOST_TEST(rows[3].name == "c");
  BOOST_TEST(workers.remove("b"));
  BOOST_TEST(!workers.remove("b"));  // already gone
  BOOST_TEST(!workers.remove("never-there"));
  rows = workers.list();
  BOOST_REQUIRE(rows.size() == 3u);
  BOOST_TEST(rows[1].name == "a");
  BOOST_TEST(rows[2].name == "c");
}

// Workers of two hosts (default names HOST:PID, the same pid on both) keep a row each, seen from either connection.
BOOST_FIXTURE_TEST_CASE(another_connection_sees_the_heartbeat, ContractFixture) {
  workers.heartbeat("host-a:7", 7, "host-a", k_t0, k_t0 + 5, "idle", 2);
  auto other = under_test->connect();
  other->workers().heartbeat("host-b:7", 7, "host-b", k_t0, k_t0 + 6, "idle", 1);
  auto rows = other->workers().list();
  BOOST_REQUIRE(rows.size() == 2u);
  BOOST_TEST(rows[0].tasks_run == 2);
  BOOST_TEST(rows[1].host == "host-b");
  BOOST_TEST(workers.list().size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(remove_silent_deletes_only_rows_older_than_the_cutoff, ContractFixture) {
  workers.heartbeat("old", 1, "h", k_t0, k_t0, "idle", 0);
  workers.heartbeat("fresh", 2, "h", k_t0, k_t0 + 1000, "idle", 0);
  BOOST_TEST(workers.remove_silent(k_t0 + 1000, DryRun::yes) == 1);
  BOOST_TEST(workers.list().size() == 2u);  // a dry run only counts
  BOOST_TEST(workers.remove_silent(k_t0 + 1000, DryRun::no) == 1);
  auto rows = workers.list();
  BOOST_REQUIRE(rows.size() == 1u);
  BOOST_TEST(rows[0].name == "fresh");
  BOOST_TEST(workers.remove_silent(k_t0 + 1000, DryRun::no) == 0);
}

// What each worker runs now: the running tasks by lease owner, the lowest id when one holds several. (Which index each
// backend reads them from: the plan checks of test_worker_registry.cpp and test_pg_queue_store.cpp.)
BOOST_FIXTURE_TEST_CASE(current_tasks_are_the_running_tasks_by_lease_owner, ContractFixture) {
  for (int i = 0; i < 3; ++i) add();
  BOOST_TEST(workers.current_tasks().empty());
  auto first = tasks.claim(k_default, "w1");
  auto second = tasks.claim(k_default, "w2");
  BOOST_REQUIRE(first);
  BOOST_REQUIRE(second);
  auto current = workers.current_tasks();
  BOOST_REQUIRE(current.size() == 2u);
  BOOST_TEST(current.at("w1").id == first->task.id);
  BOOST_TEST(current.at("w2").id == second->task.id);
  BOOST_TEST(current.at("w1").queue == "default");
  BOOST_TEST(current.at("w1").type == "job");
  tasks.complete(first->lease, "");
  current = workers.current_tasks();
  BOOST_TEST(current.size() == 1u);
  BOOST_TEST(current.count("w2") == 1u);
  // A worker holding several (a run handed over by record_and_claim): its lowest id.
  auto third = tasks.claim(k_default, "w2");
  BOOST_REQUIRE(third);
  BOOST_TEST(workers.current_tasks().at("w2").id == second->task.id);
}

// --- One write of several calls (Backend::begin_write, oos-api's writes)

// The stores' own transactions nest in the scope: an enqueue, a pause and an event are seen by another connection
// only once the scope commits, all together.
BOOST_FIXTURE_TEST_CASE(a_write_scope_commits_its_calls_and_an_event_together, ContractFixture) {
  auto& backend = under_test->backend();
  auto other = under_test->connect();
  auto scope = backend.begin_write();
  auto id = add();
  BOOST_TEST(queues.set_paused("default", true, clock.now()));
  backend.events().record(clock.now(), "api.write", "/x", "POST");
  BOOST_TEST(!other->tasks().find(id).has_value());
  BOOST_TEST(other->events().count("api.write", std::nullopt) == 0);
  scope->commit();
  BOOST_TEST(other->tasks().find(id).has_value());
  BOOST_TEST(other->events().count("api.write", std::nullopt) == 1);
  BOOST_TEST(other->queues().status(clock.now()).at(0).paused);
}

// A call that fails inside the scope undoes only its own statements (a savepoint): what came before it is still
// there and commits; a scope left without commit() undoes everything.
BOOST_FIXTURE_TEST_CASE(a_failed_call_inside_a_write_scope_undoes_only_itself_and_an_uncommitted_scope_all,
                        ContractFixture) {
  auto& backend = under_test->backend();
  std::vector<NewTask> bad(2);
  for (auto& t : bad) t.type = "a";
  bad[1].payload = "[1,";
  {
    auto scope = backend.begin_write();
    add();
    BOOST_CHECK_THROW(tasks.enqueue_batch(bad), Error);
    add();
    scope->commit();
  }
  BOOST_TEST(under_test->connect()->tasks().list("default", std::nullopt, -1).size() == 2u);
  {
    auto scope = backend.begin_write();
    add();
    BOOST_TEST(queues.set_paused("default", true, clock.now()));
    backend.events().record(clock.now(), "api.write", "/x", "POST");
  }
  auto other = under_test->connect();
  BOOST_TEST(other->tasks().list("default", std::nullopt, -1).size() == 2u);
  BOOST_TEST(other->events().count("api.write", std::nullopt) == 0);
  BOOST_TEST(!other->queues().status(clock.now()).at(0).paused);
  add();  // the connection is usable after the rollback
  BOOST_TEST(other->tasks().list("default", std::nullopt, -1).size() == 3u);
}

// A task handed back until a later time (every key of its ring cools down) is pending but not runnable before then,
// and the run is not counted.
BOOST_FIXTURE_TEST_CASE(a_release_until_a_later_time_waits_for_it_without_counting_the_run, ContractFixture) {
  auto id = add();
  auto c = tasks.claim(k_default, "w");
  BOOST_REQUIRE(c);
  auto later = clock.now() + 60'000;
  BOOST_TEST((tasks.release(c->lease, later) == Fence::applied));
  auto task = tasks.find(id);
  BOOST_TEST((task->status == TaskStatus::pending));
  BOOST_TEST(task->attempts == 0);
  BOOST_TEST(task->run_at == later);
  BOOST_TEST(!tasks.claim(k_default, "w"));
  clock.advance(60'000);
  BOOST_TEST(tasks.claim(k_default, "w").has_value());
}

// Key rings (keys/key_ring_store.hpp): the least-recently-used key not cooling down, shared through the database.
BOOST_FIXTURE_TEST_CASE(a_ring_hands_out_its_keys_least_recently_used_first, ContractFixture) {
  auto& rings = under_test->backend().key_rings();
  const std::vector<std::string> ring{"fa", "fb", "fc"};
  std::vector<std::string> got;
  for (int i = 0; i < 4; ++i) got.push_back(rings.pick("R_KEYS", ring, k_t0 + i).fingerprint.value());
  BOOST_TEST(got == (std::vector<std::string>{"fa", "fb", "fc", "fa"}), boost::test_tools::per_element());
  auto states = rings.keys("R_KEYS");
  BOOST_REQUIRE(states.size() == 3u);
  BOOST_TEST(states[0].fingerprint == "fa");
  BOOST_TEST(states[0].last_used_at.value() == k_t0 + 3);
  BOOST_TEST(states[0].uses_today == 2);
  BOOST_TEST(states[1].uses_today == 1);
  // Another ring of the same database is apart.
  BOOST_TEST(rings.pick("S_KEYS", ring, k_t0 + 9).fingerprint.value() == "fa");
}

BOOST_FIXTURE_TEST_CASE(a_cooling_key_is_skipped_and_all_cooling_gives_the_first_return, ContractFixture) {
  auto& rings = under_test->backend().key_rings();
  const std::vector<std::string> ring{"fa", "fb"};
  BOOST_TEST(rings.pick("R_KEYS", ring, k_t0).fingerprint.value() == "fa");
  rings.cool_down("R_KEYS", "fa", k_t0 + 5000);
  rings.cool_down("R_KEYS", "fa", k_t0 + 1000);  // an earlier end does not shorten it
  BOOST_TEST(rings.pick("R_KEYS", ring, k_t0 + 1).fingerprint.value() == "fb");
  BOOST_TEST(rings.pick("R_KEYS", ring, k_t0 + 2).fingerprint.value() == "fb");
  rings.cool_down("R_KEYS", "fb", k_t0 + 3000);
  auto waiting = rings.pick("R_KEYS", ring, k_t0 + 3);
  BOOST_TEST(!waiting.fingerprint);
  BOOST_TEST(waiting.wait_until.value() == k_t0 + 3000);
  BOOST_TEST(rings.pick("R_KEYS", ring, k_t0 + 3000).fingerprint.value() == "fb");
  BOOST_TEST(rings.pick("R_KEYS", ring, k_t0 + 5000).fingerprint.value() == "fa");
}

BOOST_FIXTURE_TEST_CASE(a_key_removed_from_the_secret_leaves_the_ring_and_an_added_one_joins, ContractFixture) {
  auto& rings = under_test->backend().key_rings();
  rings.pick("R_KEYS", {"fa", "fb"}, k_t0);
  rings.pick("R_KEYS", {"fa", "fb"}, k_t0 + 1);
  // fb removed, fc added: fc has never been used, so it goes first; fb is gone.
  BOOST_TEST(rings.pick("R_KEYS", {"fa", "fc"}, k_t0 + 2).fingerprint.value() == "fc");
  auto states = rings.keys("R_KEYS");
  BOOST_REQUIRE(states.size() == 2u);
  BOOST_TEST(states[0].fingerprint == "fa");
  BOOST_TEST(states[1].fingerprint == "fc");
  rings.cool_down("R_KEYS", "fb", k_t0 + 9000);  // no longer in the ring: nothing to cool
  BOOST_TEST(rings.keys("R_KEYS").size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(uses_today_start_again_on_a_new_utc_day, ContractFixture) {
  auto& rings = under_test->backend().key_rings();
  const util::UnixMillis day = 86'400'000;
  const util::UnixMillis midnight = (k_t0 / day + 1) * day;
  rings.pick("R_KEYS", {"fa"}, midnight - 2);
  rings.pick("R_KEYS", {"fa"}, midnight - 1);
  BOOST_TEST(rings.keys("R_KEYS")[0].uses_today == 2);
  rings.pick("R_KEYS", {"fa"}, midnight);
  BOOST_TEST(rings.keys("R_KEYS")[0].uses_today == 1);
  BOOST_TEST(rings.keys("R_KEYS")[0].day == midnight / day);
}

// The rings listed are those with stored keys, by name in byte order (the metrics read every one).
BOOST_FIXTURE_TEST_CASE(the_rings_with_stored_keys_are_listed_by_name, ContractFixture) {
  auto& rings = under_test->backend().key_rings();
  BOOST_TEST(rings.rings().empty());
  rings.pick("S_KEYS", {"fa"}, k_t0);
  rings.pick("R_KEYS", {"fa", "fb"}, k_t0);
  rings.pick("R_KEYS", {"fa", "fb"}, k_t0 + 1);
  rings.pick("a_KEYS", {"fa"}, k_t0);
  BOOST_TEST(rings.rings() == (std::vector<std::string>{"R_KEYS", "S_KEYS", "a_KEYS"}),
             boost::test_tools::per_element());
}

// The fingerprint key is made once and then the same for every connection; it is not a key of any ring.
BOOST_FIXTURE_TEST_CASE(the_installation_fingerprint_key_is_made_once_and_shared, ContractFixture) {
  auto first = under_test->backend().key_rings().fingerprint_key();
  BOOST_TEST(first.size() == 64u);
  BOOST_TEST(under_test->backend().key_rings().fingerprint_key() == first);
  auto other = under_test->connect();
  BOOST_TEST(other->key_rings().fingerprint_key() == first);
}

// Two connections (two workers) picking in turn never get the same key while another is free.
BOOST_FIXTURE_TEST_CASE(two_workers_picking_get_different_keys, ContractFixture) {
  auto other = under_test->connect();
  const std::vector<std::string> ring{"fa", "fb", "fc"};
  auto a = under_test->backend().key_rings().pick("R_KEYS", ring, k_t0);
  auto b = other->key_rings().pick("R_KEYS", ring, k_t0);
  auto c = under_test->backend().key_rings().pick("R_KEYS", ring, k_t0);
  BOOST_TEST(a.fingerprint.value() != b.fingerprint.value());
  BOOST_TEST(c.fingerprint.value() != a.fingerprint.value());
  BOOST_TEST(c.fingerprint.value() != b.fingerprint.value());
}
