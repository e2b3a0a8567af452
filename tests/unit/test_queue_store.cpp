#include <sqlite3.h>

#include <boost/test/unit_test.hpp>

#include <array>
#include <string>
#include <vector>

#include "store_fixture.hpp"

using namespace oos;
using namespace oos::queue;
using oos::test::StoreFixture;

BOOST_AUTO_TEST_SUITE(queue_store)

BOOST_FIXTURE_TEST_CASE(status_counts_every_state_per_queue, StoreFixture) {
  config.queue.backoff_seconds = {60};
  const std::array<std::string, 1> mail{"mail"};
  for (int i = 0; i < 6; ++i) add("mail");
  add("images");
  auto c = tasks.claim(mail, "w");
  tasks.complete(c->lease, "");
  c = tasks.claim(mail, "w");
  tasks.fail(c->lease, {policy::FailureKind::permanent, "x", 1});
  c = tasks.claim(mail, "w");
  tasks.fail(c->lease, {policy::FailureKind::retryable, "x", 1});  // retrying, not runnable for 60 s
  tasks.claim(mail, "w");                                          // running
  clock.advance(5'000);
  tasks.cancel(6);
  auto all = queues.status(clock.now());
  BOOST_REQUIRE(all.size() == 2u);
  BOOST_TEST(all[0].name == "images");
  const auto& m = all[1].counts;
  BOOST_TEST(all[1].name == "mail");
  BOOST_TEST(m.succeeded == 1);
  BOOST_TEST(m.dead == 1);
  BOOST_TEST(m.pending == 2);  // the retrying task and task 5
  BOOST_TEST(m.retrying == 1);
  BOOST_TEST(m.runnable == 1);  // task 5 only: the retry waits 60 s
  BOOST_TEST(m.running == 1);
  BOOST_TEST(m.cancelled == 1);
  BOOST_TEST(all[0].counts.runnable == 1);
  BOOST_TEST(*all[0].counts.oldest_runnable_since == clock.now() - 5'000);
}

BOOST_FIXTURE_TEST_CASE(a_queue_deeper_than_depth_alert_raises_an_alert, StoreFixture) {
  config.queue.depth_alert = 3;
  for (int i = 0; i < 3; ++i) add();
  BOOST_TEST(queues.status(clock.now())[0].alerts.empty());
  add();
  auto alerts = queues.status(clock.now())[0].alerts;
  BOOST_REQUIRE(alerts.size() == 1u);
  BOOST_TEST(alerts[0].find("depth 4") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(queue_alerts_name_depth_and_open_breakers) {
  config::QueueSettings settings;
  settings.depth_alert = 10;
  QueueCounts counts;
  counts.runnable = 11;
  policy::BreakerRecord open{policy::BreakerState::open, 10, 0, 60'000};
  auto alerts = queue_alerts(counts, open, settings);
  BOOST_REQUIRE(alerts.size() == 2u);
  BOOST_TEST(alerts[1].find("breaker open") != std::string::npos);
  counts.runnable = 10;
  BOOST_TEST(queue_alerts(counts, policy::BreakerRecord{}, settings).empty());
}

BOOST_FIXTURE_TEST_CASE(pause_is_recorded_once_and_known_queues_exist, StoreFixture) {
  BOOST_TEST(!queues.exists("later"));
  BOOST_TEST(queues.set_paused("later", true, clock.now()));
  BOOST_TEST(!queues.set_paused("later", true, clock.now()));
  BOOST_TEST(queues.exists("later"));
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'queue.pause'") == 1);
  BOOST_TEST(queues.status(clock.now())[0].paused);
}

BOOST_FIXTURE_TEST_CASE(stats_report_the_last_hours_runs_and_failures, StoreFixture) {
  config.queue.backoff_seconds = {0};
  const std::array<std::string, 1> q{"default"};
  for (int i = 0; i < 3; ++i) add();
  auto c = tasks.claim(q, "w");
  clock.advance(400);
  tasks.complete(c->lease, "");
  c = tasks.claim(q, "w");
  clock.advance(200);
  tasks.fail(c->lease, {policy::FailureKind::retryable, "x", 1});
  auto stats = queues.stats("default", clock.now());
  BOOST_REQUIRE(stats);
  BOOST_TEST(stats->runs_last_hour == 2);
  BOOST_TEST(stats->failures_last_hour == 1);
  BOOST_TEST(*stats->mean_run_ms == 300.0);
  clock.advance(62 * 60'000);  // counted per minute: gone once 61 whole minutes have passed
  BOOST_TEST(queues.stats("default", clock.now())->runs_last_hour == 0);
  BOOST_TEST(!queues.stats("missing", clock.now()).has_value());
}

// The tasks that died since a time, per queue (oos-health), read from the index of dead tasks by when they
// died: its plan walks that range, never all the tasks.
BOOST_FIXTURE_TEST_CASE(dead_since_counts_recent_dead_tasks_from_an_index, StoreFixture) {
  const std::array<std::string, 2> both{"mail", "images"};
  for (int i = 0; i < 3; ++i) add("mail");
  add("images");
  for (int i = 0; i < 4; ++i) {
    auto c = tasks.claim(both, "w");
    BOOST_REQUIRE(c);
    tasks.fail(c->lease, {policy::FailureKind::permanent, "x", 1});
    clock.advance(60'000);
  }
  auto since = clock.now() - 150'000;  // the last two deaths (60 and 120 s ago)
  std::map<std::string, std::int64_t> dead;
  auto statements = oos::test::statements_run(*db, [&] { dead = queues.dead_since(since); });
  std::int64_t total = 0;
  for (const auto& [queue, n] : dead) total += n;
  BOOST_TEST(total == 2);
  BOOST_TEST(total ==
             sql_int("SELECT count(*) FROM tasks WHERE status = 'dead' AND finished_at >= " + std::to_string(since)));
  BOOST_REQUIRE(statements.size() == 1U);
  SQLite::Statement plan(db->raw(), "EXPLAIN QUERY PLAN " + statements[0]);
  std::string details;
  while (plan.executeStep()) details += plan.getColumn(3).getString() + "; ";
  BOOST_TEST(details.find("SCAN tasks") == std::string::npos, details);
  BOOST_TEST(details.find("tasks_dead_by_finished") != std::string::npos, details);
}

BOOST_AUTO_TEST_SUITE_END()
