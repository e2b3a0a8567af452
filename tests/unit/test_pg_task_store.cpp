// pg::PgTaskStore, PgBreakerStore and the schema's migrations against the throwaway PostgreSQL cluster
// (support/pg_cluster), a schema per test. The cases of test_task_store.cpp and test_breaker_store.cpp that do not
// look inside SQLite are ported here against queue::TaskStore&, then what only a shared server can show: claimers on
// several connections, a rescuer racing a completion, one probe across connections, concurrent unique keys, and the
// plans of the claim and the reclaim.
#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <barrier>
#include <chrono>
#include <exception>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "config.hpp"
#include "error.hpp"
#include "log.hpp"
#include "pg/connection.hpp"
#include "pg/events.hpp"
#include "pg/pg_breaker_store.hpp"
#include "pg/pg_task_store.hpp"
#include "pg/schema.hpp"
#include "pg/task_sql.hpp"
#include "pg/values.hpp"
#include "support/pg_cluster.hpp"
#include "support/printers.hpp"
#include "support/temp_dir.hpp"
#include "util/time.hpp"

using namespace oos;
using namespace oos::queue;

namespace {

const std::array<std::string, 1> k_default{"default"};

pg::Connection migrated(const std::string& conninfo) {
  pg::Connection connection(conninfo);
  pg::migrate(connection);
  return connection;
}

// Runs `action`, which must throw oos::Error, and returns it.
template <typename Action>
Error error_of(Action action) {
  try {
    action();
  } catch (const Error& e) {
    return e;
  }
  BOOST_FAIL("no oos::Error thrown");
  return Error(ExitCode::ok, "");
}

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

// A migrated schema of its own, a manual clock, a store on one connection and a log file to read back.
struct PgFixture {
  test::PgSchema schema = test::PgCluster::instance().fresh_schema();
  test::TempDir dir;
  config::Config config;
  util::ManualClock clock{1'700'000'000'000};
  std::unique_ptr<log::Logger> logger = file_logger();
  pg::Connection connection = migrated(schema.conninfo());
  pg::PgTaskStore pg_tasks{connection, config, clock, *logger};
  TaskStore& tasks = pg_tasks;
  pg::PgBreakerStore breakers{connection, config.breaker, *logger};

  std::unique_ptr<log::Logger> file_logger() {
    config::LogSettings settings;
    settings.file = (dir / "oos.log").string();
    return std::make_unique<log::Logger>("oos-test", config::LogLevel::info, config::LogFormat::json, settings);
  }
  std::string log_text() {
    std::ifstream in(dir / "oos.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // Another connection to the same schema.
  pg::Connection connect() { return pg::Connection(schema.conninfo()); }
  long long sql_int(const std::string& sql) { return pg::int_at(connection.exec_params(sql), 0, 0); }
  std::string sql_text(const std::string& sql) { return std::string(connection.exec_params(sql).text(0, 0)); }
  void set_paused(const std::string& queue, bool paused) {
    connection.exec_params(
        "INSERT INTO queues (name, paused, updated_at) VALUES ($1, $2, 0) ON CONFLICT (name) DO UPDATE SET paused = "
        "excluded.paused",
        {queue, paused ? "true" : "false"});
  }
  policy::BreakerState breaker_state(const std::string& queue = "default") {
    return breakers.load("queue", queue).state;
  }
  TaskId add(const std::string& queue_name = "default", int priority = 0) {
    NewTask task;
    task.queue = queue_name;
    task.type = "job";
    task.priority = priority;
    return tasks.enqueue(task).id;
  }
  // Claims and fails one task of the default queue.
  void fail_one() {
    auto c = tasks.claim(k_default, "w");
    BOOST_REQUIRE(c);
    tasks.fail(c->lease, {policy::FailureKind::retryable, "boom", 1});
  }
  // `count` pending tasks of `queue` inserted by one statement (no events, no validation: for volume).
  void bulk_insert(int count, const std::string& queue = "default") {
    connection.exec_params(
        "INSERT INTO tasks (queue, type, payload, status, priority, run_at, max_attempts, created_at, updated_at) "
        "SELECT $1, 'job', '{}', 'pending', i % 5, $2::bigint - i, 10, $2::bigint, $2::bigint "
        "FROM generate_series(1, $3::int) AS i",
        {queue, pg::param(clock.now()), pg::param(count)});
    connection.exec_params("INSERT INTO queues (name, updated_at) VALUES ($1, 0) ON CONFLICT DO NOTHING", {queue});
  }
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

// --- Enqueue

BOOST_FIXTURE_TEST_CASE(enqueue_stores_a_pending_task_with_the_queue_defaults, PgFixture) {
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
  BOOST_TEST(sql_int("SELECT count(*) FROM queues WHERE name = 'default' AND NOT paused") == 1);
}

BOOST_FIXTURE_TEST_CASE(an_invalid_payload_is_rejected_and_nothing_is_stored, PgFixture) {
  NewTask t;
  t.type = "mail";
  t.payload = "{nope";
  BOOST_CHECK_EXCEPTION(tasks.enqueue(t), Error, [](const Error& e) { return e.code() == ExitCode::data_error; });
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
}

BOOST_FIXTURE_TEST_CASE(a_batch_is_all_or_nothing, PgFixture) {
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

BOOST_FIXTURE_TEST_CASE(a_unique_key_dedupes_while_the_task_is_active, PgFixture) {
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

BOOST_FIXTURE_TEST_CASE(claim_order_is_priority_then_run_at_then_id, PgFixture) {
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

BOOST_FIXTURE_TEST_CASE(claim_only_takes_from_the_named_unpaused_queues, PgFixture) {
  add("other");
  auto mine = add("default");
  auto paused = add("slow");
  set_paused("slow", true);
  std::array<std::string, 2> wanted{"default", "slow"};
  auto c = tasks.claim(wanted, "w");
  BOOST_REQUIRE(c);
  BOOST_TEST(c->task.id == mine);
  BOOST_TEST(!tasks.claim(wanted, "w").has_value());
  set_paused("slow", false);
  auto resumed = tasks.claim(wanted, "w");
  BOOST_REQUIRE(resumed);
  BOOST_TEST(resumed->task.id == paused);
  BOOST_TEST(!tasks.claim({}, "w").has_value());
}

BOOST_FIXTURE_TEST_CASE(claim_sets_a_lease_with_a_random_token, PgFixture) {
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
  BOOST_TEST(sql_text("SELECT lease_owner FROM tasks WHERE id = " + std::to_string(a->task.id)) == "w1");
  BOOST_TEST(sql_text("SELECT lease_token FROM tasks WHERE id = " + std::to_string(a->task.id)) == a->lease.token);
}

BOOST_FIXTURE_TEST_CASE(a_per_queue_lease_overrides_the_default, PgFixture) {
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

// --- Completion, failure, leases

BOOST_FIXTURE_TEST_CASE(complete_keeps_the_result_and_an_attempt_row, PgFixture) {
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
  BOOST_TEST(sql_int("SELECT sum(runs) FROM queue_counters WHERE queue = 'default'") == 1);
  BOOST_TEST(sql_int("SELECT sum(run_ms) FROM queue_counters WHERE queue = 'default'") == 250);
  BOOST_TEST(sql_int("SELECT sum(failures) FROM queue_counters WHERE queue = 'default'") == 0);
}

BOOST_FIXTURE_TEST_CASE(a_failure_is_retried_after_the_backoff_delay, PgFixture) {
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
  BOOST_TEST(sql_int("SELECT sum(failures) FROM queue_counters WHERE queue = 'default'") == 2);
}

BOOST_FIXTURE_TEST_CASE(jitter_only_ever_shortens_the_delay, PgFixture) {
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

BOOST_FIXTURE_TEST_CASE(max_attempts_dead_letters_with_the_last_error, PgFixture) {
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

BOOST_FIXTURE_TEST_CASE(a_permanent_failure_is_dead_at_once, PgFixture) {
  auto id = add();
  auto c = tasks.claim(k_default, "w");
  auto outcome = tasks.fail(c->lease, {policy::FailureKind::permanent, "exit 65", 65});
  BOOST_TEST(outcome.status == TaskStatus::dead);
  BOOST_TEST(tasks.find(id)->attempts == 1);
  BOOST_TEST(tasks.attempts(id)[0].outcome == "permanent");
}

BOOST_FIXTURE_TEST_CASE(an_expired_lease_is_reclaimed_and_counts_as_an_attempt, PgFixture) {
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

BOOST_FIXTURE_TEST_CASE(a_stale_token_can_neither_complete_nor_fail, PgFixture) {
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

BOOST_FIXTURE_TEST_CASE(renewal_extends_the_lease_past_its_first_expiry, PgFixture) {
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

BOOST_FIXTURE_TEST_CASE(release_hands_the_task_back_without_counting_the_run, PgFixture) {
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

BOOST_FIXTURE_TEST_CASE(cancel_applies_to_pending_tasks_only, PgFixture) {
  auto pending = add();
  auto running = add();
  tasks.cancel(pending);
  BOOST_TEST(tasks.find(pending)->status == TaskStatus::cancelled);
  tasks.claim(k_default, "w");
  auto not_pending = error_of([&] { tasks.cancel(running); });
  BOOST_TEST((not_pending.code() == ExitCode::problem_reported));
  BOOST_TEST(std::string(not_pending.what()) ==
             fmt::format("task {} is running; only pending tasks can be cancelled", running));
  BOOST_CHECK_EXCEPTION(tasks.cancel(999), Error, [](const Error& e) { return e.code() == ExitCode::no_input; });
  BOOST_TEST(pg::count_events(connection, "task.cancel") == 1);
  BOOST_TEST(sql_text("SELECT object FROM events WHERE kind = 'task.cancel'") == fmt::format("task/{}", pending));
}

BOOST_FIXTURE_TEST_CASE(requeue_brings_dead_tasks_back_with_attempts_reset, PgFixture) {
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
  BOOST_TEST(pg::count_events(connection, "task.requeue") == 1);
  std::array<TaskId, 1> not_dead{dead_id};
  BOOST_CHECK_EXCEPTION(tasks.requeue(not_dead, {}, DryRun::no), Error,
                        [](const Error& e) { return e.code() == ExitCode::problem_reported; });
  std::array<TaskId, 1> unknown{999};
  BOOST_CHECK_EXCEPTION(tasks.requeue(unknown, {}, DryRun::no), Error,
                        [](const Error& e) { return e.code() == ExitCode::no_input; });
  auto by_queue = tasks.requeue({}, {std::string("other"), std::nullopt, std::nullopt}, DryRun::no);
  BOOST_TEST(by_queue == std::vector<TaskId>{other_dead});
}

BOOST_FIXTURE_TEST_CASE(a_requeue_whose_unique_key_is_taken_is_refused_and_changes_nothing, PgFixture) {
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
  BOOST_TEST(kill() == second);
  auto both = refusal({}, DryRun::no);
  BOOST_TEST(both.find("(dead, requeued by the same command) holds its unique key 'daily'") != std::string::npos, both);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'dead'") == 2);
  std::array<TaskId, 1> one{second};
  BOOST_TEST(tasks.requeue(one, {}, DryRun::no) == std::vector<TaskId>{second});  // one alone comes back
}

BOOST_FIXTURE_TEST_CASE(the_history_keeps_every_run_across_replays, PgFixture) {
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

BOOST_FIXTURE_TEST_CASE(purge_deletes_finished_tasks_past_their_retention, PgFixture) {
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
  BOOST_TEST(pg::count_events(connection, "task.purge") == 0);
  auto done = tasks.purge({});
  BOOST_TEST(done.dead == 1);
  BOOST_TEST(done.succeeded == 1);
  BOOST_TEST(!tasks.find(old_done).has_value());
  BOOST_TEST(!tasks.find(old_dead).has_value());
  BOOST_TEST(tasks.find(fresh).has_value());
  BOOST_TEST(sql_int("SELECT count(*) FROM task_attempts") == 1);  // cascaded
  BOOST_TEST(sql_text("SELECT detail FROM events WHERE kind = 'task.purge'") == "1 dead and 1 succeeded tasks deleted");
}

BOOST_FIXTURE_TEST_CASE(purge_of_dead_tasks_only_keeps_the_succeeded_ones, PgFixture) {
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
}

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

// --- Queries

BOOST_FIXTURE_TEST_CASE(next_run_at_is_the_earliest_pending_run_at_of_the_listed_queues, PgFixture) {
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
  clock.advance(10'000);
  auto c = tasks.claim(k_default, "w");
  BOOST_REQUIRE(c);
  BOOST_TEST(c->task.id == soonest_default);
  BOOST_TEST(tasks.next_run_at(k_default).value_or(-1) == clock.now() + 20'000);
  tasks.complete(c->lease, "");
  BOOST_TEST(tasks.next_run_at(k_default).value_or(-1) == clock.now() + 20'000);
  auto now_task = delayed("default", 0);
  clock.advance(3'000);
  BOOST_TEST(tasks.next_run_at(k_default).value_or(-1) == tasks.find(now_task)->run_at);
  tasks.cancel(now_task);
  BOOST_TEST(tasks.next_run_at(k_default).value_or(-1) == clock.now() + 17'000);
}

BOOST_FIXTURE_TEST_CASE(next_run_at_ignores_paused_queues, PgFixture) {
  NewTask later;
  later.type = "job";
  later.delay = std::chrono::seconds(20);
  tasks.enqueue(later);
  add("slow");
  set_paused("slow", true);
  const std::array<std::string, 2> both{"default", "slow"};
  const std::array<std::string, 1> slow{"slow"};
  BOOST_TEST(!tasks.next_run_at(slow).has_value());
  BOOST_TEST(tasks.next_run_at(both).value_or(-1) == clock.now() + 20'000);
  set_paused("slow", false);
  BOOST_TEST(tasks.next_run_at(both).value_or(-1) == clock.now());
}

BOOST_FIXTURE_TEST_CASE(next_run_at_ignores_a_queue_whose_breaker_is_open_until_its_cooldown_ends, PgFixture) {
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
  BOOST_TEST(tasks.next_run_at(both).value_or(-1) == clock.now());
  clock.advance(60'000);
  BOOST_TEST(tasks.next_run_at(flaky).value_or(-1) == tasks.find(id)->run_at);
}

BOOST_FIXTURE_TEST_CASE(runnable_count_counts_pending_tasks_that_are_due, PgFixture) {
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
  auto c = tasks.claim(k_default, "w");
  BOOST_REQUIRE(c);
  BOOST_TEST(tasks.runnable_count(k_default) == 1);
  tasks.complete(c->lease, "");
  BOOST_TEST(tasks.runnable_count(k_default) == 1);
  clock.advance(4'999);
  BOOST_TEST(tasks.runnable_count(k_default) == 1);
  clock.advance(1);
  BOOST_TEST(tasks.runnable_count(k_default) == 2);
  c = tasks.claim(k_default, "w");
  tasks.fail(c->lease, {policy::FailureKind::permanent, "x", 1});
  auto pending = tasks.list("default", TaskStatus::pending, 10);
  BOOST_REQUIRE(pending.size() == 1u);
  tasks.cancel(pending[0].id);
  BOOST_TEST(tasks.runnable_count(k_default) == 0);
  BOOST_TEST(tasks.runnable_count(both) == 1);
}

BOOST_FIXTURE_TEST_CASE(list_pages_newest_first_by_queue_and_status, PgFixture) {
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
  BOOST_TEST(tasks.list_dead({std::nullopt, std::nullopt, "INPUT"}, 10).empty());  // case-sensitive, as SQLite
  BOOST_TEST(tasks.list_dead({std::string("other"), std::nullopt, std::nullopt}, 10).empty());
  BOOST_TEST(tasks.list_dead({std::nullopt, std::string("job"), std::nullopt}, -1).size() == 1u);
  BOOST_TEST(tasks.list_dead({}, 10, ids[0]).empty());
}

// --- record_and_claim

BOOST_FIXTURE_TEST_CASE(record_and_claim_records_the_outcome_and_claims_the_next_task, PgFixture) {
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
  BOOST_TEST(failed.next->task.id == third);
  auto last = tasks.record_and_claim(failed.next->lease, {true, "", {}}, k_default, "w1");
  BOOST_TEST(last.recorded.fence == Fence::applied);
  BOOST_TEST(!last.next);
  BOOST_TEST(tasks.find(third)->status == TaskStatus::succeeded);
  BOOST_TEST(sql_int("SELECT count(*) FROM task_attempts") == 3);
}

BOOST_FIXTURE_TEST_CASE(record_and_claim_with_a_stale_lease_changes_nothing_but_still_claims, PgFixture) {
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

// --- Breakers (the cases of test_breaker_store.cpp)

BOOST_FIXTURE_TEST_CASE(ten_consecutive_failures_open_the_breaker_and_stop_claims, PgFixture) {
  config.queue.max_attempts = 1;
  for (int i = 0; i < 12; ++i) add();
  for (int i = 0; i < 9; ++i) fail_one();
  BOOST_TEST((breaker_state() == policy::BreakerState::closed));
  fail_one();
  auto b = breakers.load("queue", "default");
  BOOST_TEST((b.state == policy::BreakerState::open));
  BOOST_TEST(b.consecutive_failures == 10);
  BOOST_TEST(!tasks.claim(k_default, "w").has_value());
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'pending'") == 2);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'breaker.open' AND object = 'queue/default'") == 1);
  BOOST_TEST(log_text().find("breaker queue/default closed -> open after 10 consecutive failures; cooldown 60s") !=
             std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(a_success_resets_the_failure_count, PgFixture) {
  config.queue.max_attempts = 1;
  for (int i = 0; i < 20; ++i) add();
  for (int i = 0; i < 9; ++i) fail_one();
  auto c = tasks.claim(k_default, "w");
  tasks.complete(c->lease, "");
  BOOST_TEST(breakers.load("queue", "default").consecutive_failures == 0);
  for (int i = 0; i < 9; ++i) fail_one();
  BOOST_TEST((breaker_state() == policy::BreakerState::closed));
}

BOOST_FIXTURE_TEST_CASE(after_the_cooldown_one_probe_runs_and_its_success_closes_the_breaker, PgFixture) {
  config.queue.max_attempts = 1;
  for (int i = 0; i < 13; ++i) add();
  for (int i = 0; i < 10; ++i) fail_one();
  clock.advance(60'000);
  auto probe = tasks.claim(k_default, "w");
  BOOST_REQUIRE(probe);
  BOOST_TEST(probe->probe);
  BOOST_TEST((breaker_state() == policy::BreakerState::half_open));
  BOOST_TEST(!tasks.claim(k_default, "w2").has_value());
  tasks.complete(probe->lease, "");
  BOOST_TEST((breaker_state() == policy::BreakerState::closed));
  auto next = tasks.claim(k_default, "w2");
  BOOST_REQUIRE(next);
  BOOST_TEST(!next->probe);
}

BOOST_FIXTURE_TEST_CASE(a_failed_probe_reopens_with_a_doubled_cooldown, PgFixture) {
  config.queue.max_attempts = 1;
  for (int i = 0; i < 13; ++i) add();
  for (int i = 0; i < 10; ++i) fail_one();
  clock.advance(60'000);
  fail_one();
  auto b = breakers.load("queue", "default");
  BOOST_TEST((b.state == policy::BreakerState::open));
  BOOST_TEST(b.cooldown_ms == 120'000);
  clock.advance(119'000);
  BOOST_TEST(!tasks.claim(k_default, "w").has_value());
  clock.advance(1'000);
  BOOST_TEST(tasks.claim(k_default, "w").has_value());
}

BOOST_FIXTURE_TEST_CASE(temporary_failures_do_not_count_against_the_breaker, PgFixture) {
  config.queue.backoff_seconds = {0};
  config.queue.max_attempts = 100;
  add();
  for (int i = 0; i < 15; ++i) {
    auto c = tasks.claim(k_default, "w");
    BOOST_REQUIRE(c);
    tasks.fail(c->lease, {policy::FailureKind::temporary, "try later", 75});
  }
  BOOST_TEST(breakers.load("queue", "default").consecutive_failures == 0);
  BOOST_TEST(tasks.attempts(1).back().outcome == "temporary");
}

BOOST_FIXTURE_TEST_CASE(reset_closes_an_open_breaker_by_hand, PgFixture) {
  config.queue.max_attempts = 1;
  for (int i = 0; i < 11; ++i) add();
  for (int i = 0; i < 10; ++i) fail_one();
  auto before = breakers.reset("queue", "default", clock.now());
  BOOST_TEST((before.state == policy::BreakerState::open));
  auto after = breakers.load("queue", "default");
  BOOST_TEST((after.state == policy::BreakerState::closed));
  BOOST_TEST(after.consecutive_failures == 0);
  BOOST_TEST(tasks.claim(k_default, "w").has_value());
  BOOST_TEST(pg::count_events(connection, "breaker.reset") == 1);
  BOOST_TEST(breakers.changed_at("queue", "default").value_or(-1) == clock.now());
  BOOST_TEST(!breakers.changed_at("queue", "never").has_value());
}

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

BOOST_FIXTURE_TEST_CASE(breakers_are_per_queue, PgFixture) {
  config.queue.max_attempts = 1;
  for (int i = 0; i < 10; ++i) add();
  add("other");
  for (int i = 0; i < 10; ++i) fail_one();
  std::array<std::string, 2> both{"default", "other"};
  auto c = tasks.claim(both, "w");
  BOOST_REQUIRE(c);
  BOOST_TEST(c->task.queue == "other");
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
  BOOST_TEST(completions + reclaims == k_rounds);
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

// --- Plans

BOOST_FIXTURE_TEST_CASE(the_claim_and_the_reclaim_use_their_partial_indexes, PgFixture) {
  bulk_insert(20'000);
  bulk_insert(500, "other");
  connection.exec_params("UPDATE tasks SET status = 'succeeded', finished_at = 1 WHERE id % 3 = 0");
  connection.exec_params(
      "UPDATE tasks SET status = 'running', lease_token = 'x', lease_expires_at = $1::bigint + id WHERE id % 100 = 1",
      {pg::param(clock.now())});
  connection.exec_params("ANALYZE tasks");
  auto plan = [&](const char* sql, const std::vector<pg::Param>& params) {
    return std::string(connection.exec_params(std::string("EXPLAIN (FORMAT JSON) ") + sql, params).text(0, 0));
  };
  const std::array<std::string, 2> queues{"default", "other"};
  const std::array<std::int64_t, 2> leases{30'000, 30'000};
  auto claim = plan(pg::sql::k_claim, {pg::param(clock.now()), pg::text_array(queues), "w", "token",
                                       pg::text_array(queues), pg::int_array(leases)});
  BOOST_TEST(claim.find("\"Index Name\": \"tasks_claim\"") != std::string::npos, claim);
  BOOST_TEST(claim.find("\"Seq Scan\"") == std::string::npos, claim);
  BOOST_TEST(claim.find("\"Sort\"") == std::string::npos, claim);  // the index walk is the claim order
  auto reclaim = plan(pg::sql::k_expired, {pg::param(clock.now() + 1000)});
  BOOST_TEST(reclaim.find("\"Index Name\": \"tasks_running\"") != std::string::npos, reclaim);
  BOOST_TEST(reclaim.find("\"Seq Scan\"") == std::string::npos, reclaim);
}

BOOST_AUTO_TEST_SUITE_END()
