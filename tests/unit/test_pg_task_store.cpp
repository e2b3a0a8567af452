// pg::PgTaskStore, PgBreakerStore and the schema's migrations against the throwaway PostgreSQL cluster
// (support/pg_cluster), a schema per test: what is PostgreSQL's own. The semantics both backends share are the store
// contract (store_contract_cases.hpp, run here by unit.store_contract_pg); here are the migrations, a batch the server
// refuses, purge in batches and over counter shards, touch() inside a transaction, then what only a shared server can
// show: claimers on several connections, a rescuer racing a completion, one probe across connections, concurrent
// unique keys, and the plans of the claim and the reclaim.
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <barrier>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "config.hpp"
#include "error.hpp"
#include "log.hpp"
#include "pg/connection.hpp"
#include "pg/events.hpp"
#include "pg/listener.hpp"
#include "pg/pg_breaker_store.hpp"
#include "pg/pg_task_store.hpp"
#include "pg/schema.hpp"
#include "pg/task_sql.hpp"
#include "pg/values.hpp"
#include "pg_store_fixture.hpp"
#include "support/error_of.hpp"
#include "support/pg_cluster.hpp"
#include "support/printers.hpp"
#include "util/time.hpp"

using namespace oos;
using namespace oos::queue;

namespace {

using test::error_of;
using test::k_default;

// Runs `body(i)` on `count` threads at once (released together by a barrier) and rethrows the first exception.
void run_together(int count, const std::function<void(int, std::barrier<>&)>& body) {
  std::barrier<> start(count);
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(count));
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i)
    threads.emplace_back([&, i] {
      try {
        body(i, start);
      } catch (...) {
        errors[static_cast<std::size_t>(i)] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

// A migrated schema of its own, a manual clock, a store on one connection, logging to a file (PgStoreFixture), and
// the breakers on that connection.
struct PgFixture : test::PgStoreFixture {
  pg::PgBreakerStore breakers{connection, config.breaker, *logger};

  policy::BreakerState breaker_state(const std::string& queue = "default") {
    return breakers.load("queue", queue).state;
  }
  // Claims and fails one task of the default queue.
  void fail_one() { test::claim_and_fail_one(tasks); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_task_store)

// --- Migrations

BOOST_AUTO_TEST_CASE(a_fresh_schema_migrates_and_a_second_migrate_changes_nothing) {
  auto schema = test::PgCluster::instance().fresh_schema();
  pg::Connection connection(schema.conninfo());
  BOOST_TEST(pg::schema_version(connection) == 0);
  pg::migrate(connection);
  BOOST_TEST(pg::schema_version(connection) == pg::latest_schema_version());
  for (const char* table : {"tasks", "task_attempts", "queue_counters", "queues", "breakers", "events", "samples",
                            "workers", "rate_limits", "search_cache"}) {
    auto r = connection.exec_params("SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = $2",
                                    {schema.name(), table});
    BOOST_TEST(r.text(0, 0) == "1", table);
  }
  BOOST_TEST(std::string(connection.exec_params("SELECT to_regclass('queue_counts') IS NULL").text(0, 0)) == "t");
  connection.exec_params("INSERT INTO queues (name, updated_at) VALUES ('kept', 1)");
  pg::migrate(connection);
  BOOST_TEST(pg::schema_version(connection) == pg::latest_schema_version());
  BOOST_TEST(std::string(connection.exec_params("SELECT count(*) FROM queues").text(0, 0)) == "1");
  BOOST_TEST(std::string(connection.exec_params("SELECT count(*) FROM oos_schema").text(0, 0)) == "1");
}

BOOST_AUTO_TEST_CASE(hosts_migrating_together_all_succeed_and_migrate_once) {
  auto schema = test::PgCluster::instance().fresh_schema();
  constexpr int k_hosts = 4;
  run_together(k_hosts, [&](int, std::barrier<>& start) {
    pg::Connection connection(schema.conninfo());
    start.arrive_and_wait();
    pg::migrate(connection);
    BOOST_TEST(pg::schema_version(connection) == pg::latest_schema_version());
  });
  pg::Connection connection(schema.conninfo());
  BOOST_TEST(pg::schema_version(connection) == pg::latest_schema_version());
}

BOOST_AUTO_TEST_CASE(a_schema_newer_than_this_build_is_refused_with_69) {
  auto schema = test::PgCluster::instance().fresh_schema();
  pg::Connection connection(schema.conninfo());
  pg::migrate(connection);
  const int newer = pg::latest_schema_version() + 1;
  connection.exec_params("UPDATE oos_schema SET version = $1", {pg::param(newer)});
  auto error = error_of([&] { pg::migrate(connection); });
  BOOST_TEST((error.code() == ExitCode::unavailable));
  const std::string message = error.what();
  BOOST_TEST(message.find(connection.server()) != std::string::npos, message);
  BOOST_TEST(message.find(fmt::format("schema version {}, newer than this build supports ({})", newer,
                                      pg::latest_schema_version())) != std::string::npos,
             message);
  BOOST_TEST(message.find("upgrade OOS on this host") != std::string::npos, message);
  BOOST_TEST(pg::schema_version(connection) == newer);  // untouched
}

// A database of version 2 (before the claim became functions) keeps its tasks across the migration, and the
// functions of version 3 claim them: what the stores call.
// A version 2 database reaches the latest version in one migration, the functions (version 3) defined with this
// build's statements, which read the count of runs of version 5.
BOOST_AUTO_TEST_CASE(a_version_2_database_migrates_to_the_claim_functions_and_keeps_its_tasks) {
  auto schema = test::PgCluster::instance().fresh_schema();
  pg::Connection connection(schema.conninfo());
  pg::migrate_to(connection, 2);
  BOOST_TEST(std::string(connection.exec_params("SELECT to_regproc('oos_claim') IS NULL").text(0, 0)) == "t");
  config::Config config;
  util::ManualClock clock{1'700'000'000'000};
  auto logger = log::Logger::discard();
  pg::PgTaskStore store{connection, config, clock, *logger};
  NewTask task;
  task.queue = "default";
  task.type = "job";
  const TaskId id = store.enqueue(task).id;
  pg::migrate(connection);
  BOOST_TEST(pg::schema_version(connection) == pg::latest_schema_version());
  auto claimed = store.claim(k_default, "w");
  BOOST_REQUIRE(claimed);
  BOOST_TEST(claimed->task.id == id);
  auto next = store.record_and_claim(claimed->lease, {true, "{}", {}}, k_default, "w");
  BOOST_TEST((next.recorded.fence == Fence::applied));
  BOOST_TEST(!next.next.has_value());
  BOOST_TEST((store.find(id)->status == TaskStatus::succeeded));
}

// A task with history before version 5 gets the count of its runs, so that its next run is numbered after them (a
// run numbered 1 again would collide with the first in task_attempts' primary key).
BOOST_AUTO_TEST_CASE(a_version_4_database_numbers_the_next_run_after_the_recorded_ones) {
  auto schema = test::PgCluster::instance().fresh_schema();
  pg::Connection connection(schema.conninfo());
  pg::migrate_to(connection, 4);
  const auto id = pg::int_at(
      connection.exec_params(
          "INSERT INTO tasks (queue, type, payload, status, run_at, attempts, max_attempts, created_at, updated_at) "
          "VALUES ('default', 'job', '{}', 'pending', 0, 2, 5, 0, 0) RETURNING id"),
      0, 0);
  connection.exec_params(
      "INSERT INTO task_attempts (task_id, run, replay, attempt, queue, ended_at, outcome) "
      "SELECT $1, run, 0, run, 'default', 0, 'failed' FROM generate_series(1, 2) AS run",
      {pg::param(id)});
  connection.exec_params("INSERT INTO queues (name, updated_at) VALUES ('default', 0)");
  pg::migrate(connection);
  BOOST_TEST(pg::int_at(connection.exec_params("SELECT runs FROM tasks WHERE id = $1", {pg::param(id)}), 0, 0) == 2);
  config::Config config;
  util::ManualClock clock{1'700'000'000'000};
  auto logger = log::Logger::discard();
  pg::PgTaskStore store{connection, config, clock, *logger};
  auto claimed = store.claim(k_default, "w");
  BOOST_REQUIRE(claimed);
  auto next = store.record_and_claim(claimed->lease, {true, "{}", {}}, k_default, "w");
  BOOST_TEST((next.recorded.fence == Fence::applied));
  const auto runs =
      connection.exec_params("SELECT run, outcome FROM task_attempts WHERE task_id = $1 ORDER BY run", {pg::param(id)});
  BOOST_REQUIRE(runs.rows() == 3);
  BOOST_TEST(pg::int_at(runs, 2, 0) == 3);
  BOOST_TEST(std::string(runs.text(2, 1)) == "succeeded");
}

// Only a running task holds a lease token: the completion's fence relies on it (pg/task_sql.hpp, OOS_PG_COMPLETED).
BOOST_FIXTURE_TEST_CASE(the_schema_refuses_a_lease_token_on_a_task_that_is_not_running, PgFixture) {
  const TaskId id = add();
  auto refused =
      error_of([&] { connection.exec_params("UPDATE tasks SET lease_token = 'x' WHERE id = $1", {pg::param(id)}); });
  BOOST_TEST(std::string(refused.what()).find("tasks_lease_only_while_running") != std::string::npos, refused.what());
}

// The functions hold the statements of the build that created them. A build whose statements differ must replace
// them in a migration of its own (pg/task_sql.hpp: define_functions()), or a database migrated before it would run
// the old ones: this fingerprint of the definitions changes with any edit of them, and tells the author to add it.
BOOST_AUTO_TEST_CASE(the_claim_functions_are_those_the_latest_migration_defines) {
  std::uint64_t fingerprint = 14695981039346656037ULL;  // FNV-1a, 64 bits
  for (char c : pg::sql::define_functions())
    fingerprint = (fingerprint ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  BOOST_TEST(fingerprint == 0x82d9bb44313be39eULL,  // version 6
             fmt::format("the claim functions changed (fingerprint {:#x}): add a schema migration that runs "
                         "sql::define_functions() again (pg/schema.cpp), then record the fingerprint here",
                         fingerprint));
}

// --- Enqueue

// An insert the server refuses inside the batch's transaction (here a CHECK added for the test) leaves none of the
// batch behind, its queue's registration included.
BOOST_FIXTURE_TEST_CASE(a_batch_the_server_refuses_halfway_leaves_nothing, PgFixture) {
  connection.exec_params("ALTER TABLE tasks ADD CONSTRAINT no_poison CHECK (type <> 'poison')");
  std::vector<NewTask> batch(3);
  for (auto& t : batch) t.type = "a";
  batch[2].type = "poison";
  BOOST_CHECK_THROW(tasks.enqueue_batch(batch), Error);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
  BOOST_TEST(sql_int("SELECT count(*) FROM queues") == 0);
}

// --- Purge (in batches; counters spread over shards)

// More finished tasks than one batch: every one is deleted, over several transactions.
BOOST_FIXTURE_TEST_CASE(purge_deletes_in_batches_until_nothing_is_left, PgFixture) {
  const int count = 2 * pg::PgTaskStore::k_purge_batch + 345;
  bulk_insert(count);
  bulk_insert(10, "other");
  connection.exec_params("UPDATE tasks SET status = 'succeeded', finished_at = $1 WHERE queue = 'default'",
                         {pg::param(clock.now())});
  add();  // pending: kept
  clock.advance(8LL * 86'400'000);
  auto purged = tasks.purge({});
  BOOST_TEST(purged.succeeded == count);
  BOOST_TEST(purged.dead == 0);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 11);
}

// Per-minute counters older than a day are folded into minute 0; the totals (summed over shards) stay whole.
BOOST_FIXTURE_TEST_CASE(purge_folds_old_counter_minutes_into_the_totals, PgFixture) {
  auto other_connection = connect();
  pg::PgTaskStore other(other_connection, config, clock, *logger);
  for (int i = 0; i < 4; ++i) add();
  for (int i = 0; i < 4; ++i) {
    TaskStore& by = i % 2 == 0 ? tasks : other;
    auto c = by.claim(k_default, "w");
    BOOST_REQUIRE(c);
    by.complete(c->lease, "");
    clock.advance(60'000);
  }
  BOOST_TEST(sql_int("SELECT sum(runs) FROM queue_counters") == 4);
  clock.advance(2LL * 86'400'000);
  tasks.purge({});
  BOOST_TEST(sql_int("SELECT sum(runs) FROM queue_counters") == 4);
  BOOST_TEST(sql_int("SELECT count(*) FROM queue_counters") == 1);
  BOOST_TEST(sql_int("SELECT count(*) FROM queue_counters WHERE minute = 0 AND shard = 0") == 1);
}

// --- Breakers

// A probe whose process died is taken over: touch() moves changed_at and nothing else.
BOOST_FIXTURE_TEST_CASE(touch_marks_a_breaker_changed_without_changing_it, PgFixture) {
  config.breaker.failure_threshold = 1;
  add();
  fail_one();
  auto before = breakers.load("queue", "default");
  auto opened = breakers.changed_at("queue", "default");
  BOOST_REQUIRE(opened);
  clock.advance(5'000);
  {
    pg::Transaction tx(connection);
    breakers.touch("queue", "default", clock.now());
    tx.commit();
  }
  BOOST_TEST(breakers.changed_at("queue", "default").value_or(-1) == *opened + 5'000);
  BOOST_TEST((breakers.load("queue", "default") == before));
  BOOST_TEST(pg::count_events(connection, "breaker.open") == 1);
}

// --- What only a shared server shows

// Four workers, each on its own connection, claim until nothing is left: every task exactly once.
BOOST_FIXTURE_TEST_CASE(concurrent_claimers_on_four_connections_claim_every_task_exactly_once, PgFixture) {
  constexpr int k_workers = 4;
  constexpr int k_tasks = 400;
  bulk_insert(k_tasks);
  std::vector<std::vector<TaskId>> seen(k_workers);
  run_together(k_workers, [&](int i, std::barrier<>& start) {
    pg::Connection own = connect();
    auto quiet = log::Logger::discard();
    pg::PgTaskStore store(own, config, clock, *quiet);
    start.arrive_and_wait();
    while (auto c = store.claim(k_default, fmt::format("w{}", i)))
      seen[static_cast<std::size_t>(i)].push_back(c->task.id);
  });
  std::vector<TaskId> all;
  for (const auto& s : seen) {
    BOOST_TEST_MESSAGE("a worker claimed " << s.size());  // usually all four claim some (a busy machine may differ)
    all.insert(all.end(), s.begin(), s.end());
  }
  std::sort(all.begin(), all.end());
  BOOST_TEST(all.size() == static_cast<std::size_t>(k_tasks));
  BOOST_TEST((std::adjacent_find(all.begin(), all.end()) == all.end()));
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'running' AND attempts = 1") == k_tasks);
}

// The reclaim and a completion with the current token race for an expired lease, many times: exactly one of them
// wins each time, and the history holds exactly that one's run (River #1302: a rescuer overwrote a completion).
BOOST_FIXTURE_TEST_CASE(a_rescuer_racing_a_completion_lets_exactly_one_win, PgFixture) {
  config.queue.backoff_seconds = {0};
  config.queue.backoff_jitter = 0;
  config.breaker.failure_threshold = 1'000'000;
  constexpr int k_rounds = 40;
  pg::Connection rescuer_connection = connect();
  auto quiet = log::Logger::discard();
  pg::PgTaskStore rescuer(rescuer_connection, config, clock, *quiet);
  int completions = 0;
  int reclaims = 0;
  for (int round = 0; round < k_rounds; ++round) {
    auto id = add();
    auto c = tasks.claim(k_default, "w");
    BOOST_REQUIRE(c);
    clock.advance(31'000);  // expired: the rescuer may take it, the worker has not heard
    Fence fence = Fence::stale;
    int reclaimed = 0;
    run_together(2, [&](int side, std::barrier<>& start) {
      start.arrive_and_wait();
      if (side == 0)
        fence = tasks.complete(c->lease, "done");
      else
        reclaimed = rescuer.reclaim_expired();
    });
    BOOST_TEST(((fence == Fence::applied) != (reclaimed == 1)), "round " << round);
    auto history = tasks.attempts(id);
    BOOST_REQUIRE(history.size() == 1u);
    auto t = tasks.find(id);
    if (fence == Fence::applied) {
      ++completions;
      BOOST_TEST(history[0].outcome == "succeeded");
      BOOST_TEST(t->status == TaskStatus::succeeded);
    } else {
      ++reclaims;
      BOOST_TEST(history[0].outcome == "lost");
      BOOST_TEST(t->status == TaskStatus::pending);
      tasks.cancel(id);  // out of the next round's way
    }
  }
  BOOST_TEST_MESSAGE("completions " << completions << ", reclaims " << reclaims);
}

// A completion in flight holds its row: the reclaim skips it at once (no wait) and leaves it to the completion.
BOOST_FIXTURE_TEST_CASE(the_reclaim_skips_a_row_a_completion_holds, PgFixture) {
  auto id = add();
  auto c = tasks.claim(k_default, "w");
  clock.advance(31'000);
  pg::Connection holder = connect();
  {
    pg::Transaction tx(holder);
    holder.exec_params("SELECT id FROM tasks WHERE id = $1 FOR UPDATE", {pg::param(id)});
    BOOST_TEST(tasks.reclaim_expired() == 0);
  }
  BOOST_TEST((tasks.complete(c->lease, "") == Fence::applied));
  BOOST_TEST(tasks.reclaim_expired() == 0);
  BOOST_TEST(tasks.attempts(id).size() == 1u);
}

// A cooled-down breaker admits one probe, whichever of two connections claims first, round after round.
BOOST_FIXTURE_TEST_CASE(a_half_open_breaker_lets_exactly_one_probe_through_across_connections, PgFixture) {
  config.breaker.failure_threshold = 1;
  config.queue.backoff_seconds = {0};
  config.queue.max_attempts = 1000;
  constexpr int k_rounds = 15;
  for (int i = 0; i < 4; ++i) add();
  fail_one();
  BOOST_REQUIRE((breaker_state() == policy::BreakerState::open));
  pg::Connection second_connection = connect();
  auto quiet = log::Logger::discard();
  pg::PgTaskStore second(second_connection, config, clock, *quiet);
  for (int round = 0; round < k_rounds; ++round) {
    clock.advance(breakers.load("queue", "default").cooldown_ms);
    std::array<std::optional<ClaimedTask>, 2> got;
    run_together(2, [&](int side, std::barrier<>& start) {
      TaskStore& store = side == 0 ? tasks : second;
      start.arrive_and_wait();
      got[static_cast<std::size_t>(side)] = store.claim(k_default, side == 0 ? "a" : "b");
    });
    BOOST_TEST((got[0].has_value() != got[1].has_value()), "round " << round);
    auto& probe = got[0] ? got[0] : got[1];
    BOOST_REQUIRE(probe);
    BOOST_TEST(probe->probe);
    BOOST_TEST((breaker_state() == policy::BreakerState::half_open));
    tasks.fail(probe->lease, {policy::FailureKind::retryable, "still down", 1});  // re-opens it
    BOOST_REQUIRE((breaker_state() == policy::BreakerState::open));
  }
  BOOST_TEST(pg::count_events(connection, "breaker.half_open") >= k_rounds);
}

// A queue whose breaker is open and cooling down is passed over inside the claim's one statement: claiming another
// queue's task, alone or with a success recorded, takes no second round trip (the transaction that decides probes).
// Once the cooldown is over, a probe is due and that transaction decides it. Seen from another connection: the last
// statement the store's connection ran.
BOOST_FIXTURE_TEST_CASE(an_open_breaker_costs_no_second_round_trip_while_it_cools_down, PgFixture) {
  config.breaker.failure_threshold = 1;
  config.queue.backoff_seconds = {0};
  config.queue.max_attempts = 10;
  add();
  fail_one();  // opens the default queue's breaker; its task is runnable again
  BOOST_REQUIRE((breaker_state() == policy::BreakerState::open));
  add("other");
  add("other");
  const std::array<std::string, 2> queues{"default", "other"};
  pg::Connection observer = connect();
  auto last_statement = [&]() -> std::string {
    return std::string(
        observer.exec_params("SELECT query FROM pg_stat_activity WHERE pid = $1", {pg::param(connection.backend_pid())})
            .text(0, 0));
  };
  auto first = tasks.claim(queues, "w");
  BOOST_REQUIRE(first);
  BOOST_TEST(first->task.queue == "other");
  BOOST_TEST(last_statement().starts_with("SELECT * FROM oos_claim_unless_breaker("), last_statement());
  auto second = tasks.record_and_claim(first->lease, {true, "{}", {}}, queues, "w");
  BOOST_REQUIRE(second.next);
  BOOST_TEST(second.next->task.queue == "other");
  BOOST_TEST(last_statement().starts_with("SELECT * FROM oos_complete_and_claim("), last_statement());

  clock.advance(breakers.load("queue", "default").cooldown_ms);
  auto probe = tasks.record_and_claim(second.next->lease, {true, "{}", {}}, queues, "w");
  BOOST_REQUIRE(probe.next);
  BOOST_TEST(probe.next->task.queue == "default");
  BOOST_TEST(probe.next->probe);
  BOOST_TEST(last_statement() == "COMMIT");
  BOOST_TEST((breaker_state() == policy::BreakerState::half_open));
}

// A claimer that finds the breaker's lock taken (another claimer deciding the probe) skips the queue at once.
BOOST_FIXTURE_TEST_CASE(a_claim_skips_a_breaker_another_claimer_is_deciding, PgFixture) {
  config.breaker.failure_threshold = 1;
  config.queue.max_attempts = 10;
  add();
  add();
  fail_one();
  clock.advance(60'000);
  pg::Connection other = connect();
  pg::PgBreakerStore other_breakers(other, config.breaker, *logger);
  {
    pg::Transaction tx(other);
    BOOST_TEST(other_breakers.lock("queue", "default", pg::PgBreakerStore::Wait::no));
    BOOST_TEST(!tasks.claim(k_default, "w").has_value());
  }
  auto probe = tasks.claim(k_default, "w");
  BOOST_REQUIRE(probe);
  BOOST_TEST(probe->probe);
}

// Failures recorded on several connections at once all count (the breaker row is read under its lock).
BOOST_FIXTURE_TEST_CASE(failures_on_several_connections_are_all_counted, PgFixture) {
  config.breaker.failure_threshold = 1000;
  config.queue.max_attempts = 1;
  constexpr int k_workers = 4;
  constexpr int k_each = 10;
  bulk_insert(k_workers * k_each);
  run_together(k_workers, [&](int i, std::barrier<>& start) {
    pg::Connection own = connect();
    auto quiet = log::Logger::discard();
    pg::PgTaskStore store(own, config, clock, *quiet);
    start.arrive_and_wait();
    for (int n = 0; n < k_each; ++n) {
      auto c = store.claim(k_default, fmt::format("w{}", i));
      BOOST_REQUIRE(c);
      store.fail(c->lease, {policy::FailureKind::retryable, "boom", 1});
    }
  });
  BOOST_TEST(breakers.load("queue", "default").consecutive_failures == k_workers * k_each);
  BOOST_TEST(sql_int("SELECT sum(failures) FROM queue_counters") == k_workers * k_each);
}

// Producers on four connections enqueue one unique key at once: one task, and every producer is told its id.
BOOST_FIXTURE_TEST_CASE(concurrent_enqueues_of_one_unique_key_create_one_task, PgFixture) {
  constexpr int k_producers = 4;
  constexpr int k_rounds = 10;
  for (int round = 0; round < k_rounds; ++round) {
    std::array<EnqueueResult, k_producers> results{};
    run_together(k_producers, [&](int i, std::barrier<>& start) {
      pg::Connection own = connect();
      auto quiet = log::Logger::discard();
      pg::PgTaskStore store(own, config, clock, *quiet);
      NewTask t;
      t.type = "digest";
      t.unique_key = fmt::format("key-{}", round);
      start.arrive_and_wait();
      results[static_cast<std::size_t>(i)] = store.enqueue(t);
    });
    int created = 0;
    for (const auto& r : results) {
      created += r.created ? 1 : 0;
      BOOST_TEST(r.id == results[0].id);
    }
    BOOST_TEST(created == 1, "round " << round);
  }
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == k_rounds);
}

// A requeue racing an enqueue of the dead task's unique key: the requeue wins (the enqueue is told the requeued task)
// or the enqueue does (the requeue is refused with 1, naming the new holder), never the server's unique violation.
BOOST_FIXTURE_TEST_CASE(a_requeue_racing_an_enqueue_of_its_unique_key_wins_or_is_refused, PgFixture) {
  constexpr int k_rounds = 30;
  pg::Connection producer_connection = connect();
  auto quiet = log::Logger::discard();
  pg::PgTaskStore producer(producer_connection, config, clock, *quiet);
  int requeued = 0;
  for (int round = 0; round < k_rounds; ++round) {
    NewTask t;
    t.queue = fmt::format("q{}", round);
    t.type = "digest";
    t.unique_key = "daily";
    auto dead = tasks.enqueue(t).id;
    const std::array<std::string, 1> queue{t.queue};
    auto c = tasks.claim(queue, "w");
    BOOST_REQUIRE(c);
    tasks.fail(c->lease, {policy::FailureKind::permanent, "broken", 1});
    std::optional<Error> refusal;
    EnqueueResult enqueued;
    run_together(2, [&](int side, std::barrier<>& start) {
      const std::array<TaskId, 1> ids{dead};
      start.arrive_and_wait();
      if (side == 1) {
        enqueued = producer.enqueue(t);
        return;
      }
      try {
        (void)tasks.requeue(ids, {}, DryRun::no);
      } catch (const Error& e) {
        refusal = e;
      }
    });
    if (!refusal) {
      ++requeued;
      BOOST_TEST(enqueued.id == dead, "round " << round);
      BOOST_TEST(!enqueued.created);
    } else {
      BOOST_TEST((refusal->code() == ExitCode::problem_reported), refusal->what());
      BOOST_TEST(enqueued.created);
      BOOST_TEST(
          std::string(refusal->what()).find(fmt::format("task {} (pending) holds its unique key", enqueued.id)) !=
              std::string::npos,
          refusal->what());
    }
    BOOST_TEST(sql_int(fmt::format("SELECT count(*) FROM tasks WHERE queue = 'q{}' AND status = 'pending'", round)) ==
               1);
  }
  BOOST_TEST_MESSAGE("requeued " << requeued << " of " << k_rounds);
}

// --- Wake-ups

// A worker that stops hands its task back (release); a worker idle on another host hears of it at once instead of at
// its next poll.
BOOST_FIXTURE_TEST_CASE(a_released_task_wakes_the_listening_workers, PgFixture) {
  add();
  auto claimed = tasks.claim(k_default, "w");
  BOOST_REQUIRE(claimed);
  pg::Listener listener(schema.conninfo(), std::nullopt, pg::k_tasks_channel);
  BOOST_TEST((listener.wait(std::chrono::milliseconds(200)) == pg::Listener::Wake::timeout));
  BOOST_TEST((tasks.release(claimed->lease) == Fence::applied));
  BOOST_TEST((listener.wait(std::chrono::milliseconds(5000)) == pg::Listener::Wake::notified));
  BOOST_TEST((tasks.release(claimed->lease) == Fence::stale));  // released already: nothing to tell
  BOOST_TEST((listener.wait(std::chrono::milliseconds(200)) == pg::Listener::Wake::timeout));
}

// --- Plans

namespace {

// The most rows any node of an EXPLAIN (ANALYZE, FORMAT JSON) plan read from `relation` in one of its loops: those
// it returned and those its filter removed.
double most_rows_per_loop(const nlohmann::json& node, const std::string& relation) {
  double most = 0;
  if (node.value("Relation Name", "") == relation)
    most = (node.value("Actual Rows", 0.0) + node.value("Rows Removed by Filter", 0.0)) /
           std::max(1.0, node.value("Actual Loops", 1.0));
  for (const auto& child : node.value("Plans", nlohmann::json::array()))
    most = std::max(most, most_rows_per_loop(child, relation));
  return most;
}

// The plan of `sql` run through its generic plan, the one its function runs (pg/task_sql.hpp): PREPAREd with the
// function's argument `types`, and EXECUTEd with the values as literals under EXPLAIN ANALYZE, in a transaction
// rolled back. With `meanwhile`, the plan is made first (an EXECUTE, rolled back), then `meanwhile` runs, then the
// plan made before runs: as a function keeps the plan of its first call for the connection's life.
nlohmann::json generic_plan(pg::Connection& connection, const std::string& sql, const std::string& types,
                            const std::vector<pg::Param>& params, const std::function<void()>& meanwhile = {}) {
  connection.exec_params("SET plan_cache_mode = force_generic_plan");
  connection.exec_params("PREPARE generic (" + types + ") AS " + sql);
  std::string values;
  for (const auto& p : params)
    values += (values.empty() ? "" : ", ") +
              std::string(connection.exec_params("SELECT quote_nullable($1::text)", {p}).text(0, 0));
  if (meanwhile) {
    {
      pg::Transaction tx(connection);
      connection.exec_params("EXECUTE generic (" + values + ")");
    }
    meanwhile();
  }
  nlohmann::json plan;
  {
    pg::Transaction tx(connection);
    plan = nlohmann::json::parse(
        connection.exec_params("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE generic (" + values + ")").text(0, 0));
  }
  connection.exec_params("DEALLOCATE generic");
  connection.exec_params("RESET plan_cache_mode");
  return plan;
}

constexpr const char* k_complete_and_claim_types =
    "bigint, text, integer, text, bigint, text, bigint, text, text[], text, text, bigint[]";

// complete_and_claim()'s parameters: a success of `running`, then a claim of `queues`.
std::vector<pg::Param> complete_and_claim_params(const ClaimedTask& running, util::UnixMillis now,
                                                 std::span<const std::string> queues,
                                                 std::span<const std::int64_t> leases) {
  return {pg::param(now),
          "succeeded",
          pg::param(0),
          std::nullopt,
          pg::param(0),
          "{}",
          pg::param(running.task.id),
          running.lease.token,
          pg::text_array(queues),
          "w",
          "token",
          pg::int_array(leases)};
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(the_claim_and_the_reclaim_use_their_partial_indexes, PgFixture) {
  bulk_insert(20'000);
  bulk_insert(500, "other");
  connection.exec_params("UPDATE tasks SET status = 'succeeded', finished_at = 1 WHERE id % 3 = 0");
  connection.exec_params(
      "UPDATE tasks SET status = 'running', lease_token = 'x', lease_expires_at = $1::bigint + id WHERE id % 100 = 1",
      {pg::param(clock.now())});
  connection.exec_params("ANALYZE tasks");
  auto plan = [&](const std::string& sql, const std::vector<pg::Param>& params) {
    return std::string(connection.exec_params("EXPLAIN (FORMAT JSON) " + sql, params).text(0, 0));
  };
  const std::array<std::string, 2> queues{"default", "other"};
  const std::array<std::int64_t, 2> leases{30'000, 30'000};
  for (const auto* sql : {&pg::sql::claim(), &pg::sql::claim_unless_breaker()}) {
    auto claim = plan(*sql, {pg::param(clock.now()), pg::text_array(queues), "w", "token", pg::int_array(leases)});
    BOOST_TEST(claim.find("\"Index Name\": \"tasks_claim\"") != std::string::npos, claim);
    BOOST_TEST(claim.find("\"Seq Scan\"") == std::string::npos, claim);
  }
  auto reclaim = plan(pg::sql::k_expired, {pg::param(clock.now() + 1000)});
  BOOST_TEST(reclaim.find("\"Index Name\": \"tasks_running\"") != std::string::npos, reclaim);
  BOOST_TEST(reclaim.find("\"Seq Scan\"") == std::string::npos, reclaim);
}

// A backlog that arrives in a table the server has not analysed yet (a burst of enqueues before autovacuum's next
// round) is claimed from the head of each queue, one row read per queue, not sorted whole on every claim. The
// claim once sorted all 10,000 runnable tasks here, 3-50 ms a claim (docs/decisions.md).
BOOST_FIXTURE_TEST_CASE(a_claim_reads_one_row_per_queue_before_the_statistics_know_the_backlog, PgFixture) {
  bulk_insert(10'000);
  bulk_insert(1'000, "other");
  BOOST_REQUIRE(sql_int("SELECT count(*) FROM pg_stats WHERE tablename = 'tasks'") == 0);  // never analysed
  const std::array<std::string, 2> queues{"default", "other"};
  const std::array<std::int64_t, 2> leases{30'000, 30'000};
  auto most_rows_read = [&](const std::string& sql, const std::vector<pg::Param>& params) {
    pg::Transaction tx(connection);  // rolled back: EXPLAIN ANALYZE runs the statement
    const auto plan =
        nlohmann::json::parse(connection.exec_params("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params).text(0, 0));
    BOOST_TEST_MESSAGE(plan.dump(2));
    return most_rows_per_loop(plan.at(0).at("Plan"), "tasks");
  };
  // The same read through the statement's generic plan.
  auto most_rows_read_generic = [&](const std::string& sql, const std::string& types,
                                    const std::vector<pg::Param>& params) {
    const auto plan = generic_plan(connection, sql, types, params);
    BOOST_TEST(plan.dump().find("\"Index Name\":\"tasks_claim\"") != std::string::npos, plan.dump(2));
    return most_rows_per_loop(plan.at(0).at("Plan"), "tasks");
  };
  const std::string claim_types = "bigint, text[], text, text, bigint[]";
  for (std::size_t n = 1; n <= queues.size(); ++n) {
    const std::span<const std::string> eligible(queues.data(), n);
    const std::vector<pg::Param> claim_params{pg::param(clock.now()), pg::text_array(eligible), "w", "token",
                                              pg::int_array(std::span(leases.data(), n))};
    BOOST_TEST(most_rows_read(pg::sql::claim(), claim_params) <= 1.0);
    BOOST_TEST(most_rows_read(pg::sql::claim_unless_breaker(), claim_params) <= 1.0);
    BOOST_TEST(most_rows_read_generic(pg::sql::claim(), claim_types, claim_params) <= 1.0);
    BOOST_TEST(most_rows_read_generic(pg::sql::claim_unless_breaker(), claim_types, claim_params) <= 1.0);
  }
  auto running = tasks.claim(queues, "w");
  BOOST_REQUIRE(running);
  const auto complete_params = complete_and_claim_params(*running, clock.now(), queues, leases);
  BOOST_TEST(most_rows_read(pg::sql::complete_and_claim(), complete_params) <= 1.0);
  BOOST_TEST(most_rows_read_generic(pg::sql::complete_and_claim(), k_complete_and_claim_types, complete_params) <= 1.0);
}

// The function's plan is made at its first call on a connection, from the statistics and the table sizes of that
// moment, and kept. Made here with no task running and no run recorded (statistics and tables), it once walked every
// running task (tasks_running) to find the one it completes, and read task_attempts whole to number the run: 2,000
// rows of each per task once 2,000 tasks had run, which halved the drain's rate (docs/decisions.md). It reads one row
// of tasks per step and none of task_attempts, whatever it was made from.
BOOST_FIXTURE_TEST_CASE(the_record_and_claim_reads_one_task_whatever_the_statistics_saw, PgFixture) {
  bulk_insert(5'000);
  connection.exec_params("ANALYZE");
  auto running = tasks.claim(k_default, "w");
  BOOST_REQUIRE(running);
  const std::array<std::int64_t, 1> leases{30'000};
  const auto plan =
      generic_plan(connection, pg::sql::complete_and_claim(), k_complete_and_claim_types,
                   complete_and_claim_params(*running, clock.now(), k_default, leases), [&] {
                     connection.exec_params(
                         "UPDATE tasks SET status = 'running', attempts = 1, runs = 1, lease_token = 'other' || id, "
                         "lease_expires_at = $1::bigint WHERE status = 'pending' AND id <= 2000",
                         {pg::param(clock.now() + 60'000)});
                     connection.exec_params(
                         "INSERT INTO task_attempts (task_id, run, replay, attempt, queue, ended_at, outcome) "
                         "SELECT id, 1, 0, 1, queue, 0, 'failed' FROM tasks WHERE lease_token LIKE 'other%'");
                   });
  BOOST_TEST_MESSAGE(plan.dump(2));
  BOOST_TEST(most_rows_per_loop(plan.at(0).at("Plan"), "tasks") <= 1.0, plan.dump(2));
  BOOST_TEST(most_rows_per_loop(plan.at(0).at("Plan"), "task_attempts") == 0.0, plan.dump(2));
}

BOOST_AUTO_TEST_SUITE_END()
