// The queue metrics (oos-queue metrics, oos_queue.prom) read from a real state database.
#include <boost/test/unit_test.hpp>

#include <array>
#include <limits>
#include <string>

#include "db/events.hpp"
#include "keys/sqlite_key_ring_store.hpp"
#include "metrics/queue_metrics.hpp"
#include "store_fixture.hpp"

using namespace oos;
using oos::test::StoreFixture;

namespace {

// The value of the sample `series` (name and labels as written) in `text`; NaN when absent.
double sample(const std::string& text, const std::string& series) {
  auto at = ("\n" + text).find("\n" + series + " ");
  if (at == std::string::npos) return std::numeric_limits<double>::quiet_NaN();
  return std::stod(text.substr(at + series.size() + 1));
}

// How many times `line` occurs as a whole line of `text`.
int count_lines(const std::string& text, const std::string& line) {
  int n = 0;
  for (auto at = ("\n" + text).find("\n" + line + "\n"); at != std::string::npos;
       at = ("\n" + text).find("\n" + line + "\n", at + 1))
    ++n;
  return n;
}

// Three queues in known states, T0 = the fixture's start:
//   mail:  task 1 ran 2 s and succeeded, task 2 ran 0.5 s and failed permanently (dead), task 3 is running,
//          task 4 has been runnable since T0; its breaker counts 1 failure.
//   flaky: tasks 5 and 6 each failed once (retries due in 60 s): the breaker (threshold 2) is open.
//   idle:  paused, no tasks.
// The clock ends at T0 + 12.5 s.
struct QueueMetricsFixture : StoreFixture {
  util::UnixMillis t0 = clock.now();

  QueueMetricsFixture() {
    config.queue.backoff_seconds = {60};
    config.queue.backoff_jitter = 0;
    config.breaker.failure_threshold = 2;
    const std::array<std::string, 1> mail{"mail"}, flaky{"flaky"};
    for (int i = 0; i < 4; ++i) add("mail");
    for (int i = 0; i < 2; ++i) add("flaky");
    auto c = tasks.claim(mail, "w");
    clock.advance(2'000);
    tasks.complete(c->lease, "");
    c = tasks.claim(mail, "w");
    clock.advance(500);
    tasks.fail(c->lease, {policy::FailureKind::permanent, "bad input", 65});
    tasks.claim(mail, "w");
    for (int i = 0; i < 2; ++i) {
      c = tasks.claim(flaky, "w");
      tasks.fail(c->lease, {policy::FailureKind::retryable, "timeout", std::nullopt});
    }
    queues.set_paused("idle", true, clock.now());
    clock.advance(10'000);
  }

  std::string text() { return metrics::queue_metrics(*db, config, *logger, clock.now()).text(); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(queue_metrics)

BOOST_FIXTURE_TEST_CASE(tasks_are_counted_by_queue_and_state, QueueMetricsFixture) {
  auto t = text();
  BOOST_TEST(sample(t, R"(oos_queue_tasks{queue="mail",state="pending"})") == 1.0, t);
  BOOST_TEST(sample(t, R"(oos_queue_tasks{queue="mail",state="running"})") == 1.0);
  BOOST_TEST(sample(t, R"(oos_queue_tasks{queue="mail",state="succeeded"})") == 1.0);
  BOOST_TEST(sample(t, R"(oos_queue_tasks{queue="mail",state="dead"})") == 1.0);
  BOOST_TEST(sample(t, R"(oos_queue_tasks{queue="mail",state="cancelled"})") == 0.0);
  BOOST_TEST(sample(t, R"(oos_queue_tasks{queue="flaky",state="pending"})") == 2.0);
  BOOST_TEST(sample(t, R"(oos_queue_tasks{queue="idle",state="pending"})") == 0.0);
  BOOST_TEST(sample(t, R"(oos_queue_runnable_tasks{queue="mail"})") == 1.0);
  BOOST_TEST(sample(t, R"(oos_queue_runnable_tasks{queue="flaky"})") == 0.0);  // retries due in 60 s
  BOOST_TEST(sample(t, R"(oos_queue_retrying_tasks{queue="flaky"})") == 2.0);
  BOOST_TEST(sample(t, R"(oos_queue_retrying_tasks{queue="mail"})") == 0.0);
  BOOST_TEST(sample(t, "oos_queue_dead_letter_tasks") == 1.0);
}

BOOST_FIXTURE_TEST_CASE(the_oldest_wait_is_how_long_the_first_runnable_task_has_been_due, QueueMetricsFixture) {
  auto t = text();
  BOOST_TEST(sample(t, R"(oos_queue_oldest_runnable_wait_seconds{queue="mail"})") == 12.5, t);
  BOOST_TEST(sample(t, R"(oos_queue_oldest_runnable_wait_seconds{queue="flaky"})") == 0.0);  // none due
  BOOST_TEST(sample(t, R"(oos_queue_oldest_runnable_wait_seconds{queue="idle"})") == 0.0);
}

BOOST_FIXTURE_TEST_CASE(runs_are_counters_by_outcome_with_their_time, QueueMetricsFixture) {
  auto t = text();
  BOOST_TEST(t.find("# TYPE oos_queue_runs_total counter\n") != std::string::npos, t);
  BOOST_TEST(sample(t, R"(oos_queue_runs_total{queue="mail",outcome="succeeded"})") == 1.0);
  BOOST_TEST(sample(t, R"(oos_queue_runs_total{queue="mail",outcome="failed"})") == 1.0);
  BOOST_TEST(sample(t, R"(oos_queue_runs_total{queue="flaky",outcome="succeeded"})") == 0.0);
  BOOST_TEST(sample(t, R"(oos_queue_runs_total{queue="flaky",outcome="failed"})") == 2.0);
  BOOST_TEST(sample(t, R"(oos_queue_run_seconds_total{queue="mail"})") == 2.5);
  BOOST_TEST(sample(t, R"(oos_queue_runs_total{queue="idle",outcome="failed"})") == 0.0);
}

BOOST_FIXTURE_TEST_CASE(run_totals_survive_the_purge_of_tasks_and_of_old_minutes, QueueMetricsFixture) {
  clock.advance(8 * 24 * 3600 * 1000LL);  // past the retentions and the day of per-minute counters
  auto purged = tasks.purge({});
  BOOST_TEST_REQUIRE(purged.succeeded == 1);
  BOOST_TEST_REQUIRE(purged.dead == 1);
  auto t = text();
  BOOST_TEST(sample(t, R"(oos_queue_tasks{queue="mail",state="succeeded"})") == 0.0, t);
  BOOST_TEST(sample(t, R"(oos_queue_runs_total{queue="mail",outcome="succeeded"})") == 1.0);
  BOOST_TEST(sample(t, R"(oos_queue_runs_total{queue="mail",outcome="failed"})") == 1.0);
  BOOST_TEST(sample(t, R"(oos_queue_run_seconds_total{queue="mail"})") == 2.5);
  BOOST_TEST(sql_int("SELECT count(*) FROM queue_counters WHERE minute > 0") == 0);
}

BOOST_FIXTURE_TEST_CASE(breakers_and_pauses_are_numbers, QueueMetricsFixture) {
  auto t = text();
  BOOST_TEST(sample(t, R"(oos_queue_breaker_state{queue="flaky"})") == 2.0, t);  // open
  BOOST_TEST(sample(t, R"(oos_queue_breaker_state{queue="mail"})") == 0.0);      // closed
  BOOST_TEST(sample(t, R"(oos_queue_breaker_consecutive_failures{queue="flaky"})") == 2.0);
  BOOST_TEST(sample(t, R"(oos_queue_breaker_consecutive_failures{queue="mail"})") == 1.0);
  BOOST_TEST(sample(t, R"(oos_queue_paused{queue="idle"})") == 1.0);
  BOOST_TEST(sample(t, R"(oos_queue_paused{queue="mail"})") == 0.0);

  clock.advance(60'000);  // cooled down: the next claim is the probe, and the breaker half-open
  const std::array<std::string, 1> flaky{"flaky"};
  BOOST_TEST_REQUIRE(tasks.claim(flaky, "w")->probe);
  BOOST_TEST(sample(text(), R"(oos_queue_breaker_state{queue="flaky"})") == 1.0);
}

BOOST_FIXTURE_TEST_CASE(recoveries_and_restores_come_from_the_events_and_only_when_there_was_one, StoreFixture) {
  auto t = metrics::queue_metrics(*db, config, *logger, clock.now()).text();
  BOOST_TEST(t.find("oos_database_last") == std::string::npos, t);
  BOOST_TEST(t.find("last_success") == std::string::npos);  // the periodic tools' own files have those
  db::record_event_alone(*db, 1'700'000'100'250, "integrity.recovered", "database", "from a backup");
  db::record_event_alone(*db, 1'700'000'200'000, "backup.restored", "backup/x.db", "by hand");
  t = metrics::queue_metrics(*db, config, *logger, clock.now()).text();
  BOOST_TEST(sample(t, "oos_database_last_recovery_timestamp_seconds") == 1'700'000'100.25, t);
  BOOST_TEST(sample(t, "oos_database_last_restore_timestamp_seconds") == 1'700'000'200.0);
}

BOOST_FIXTURE_TEST_CASE(each_metric_has_one_help_and_type_before_all_its_samples, QueueMetricsFixture) {
  auto t = text();
  for (const char* name : {"oos_queue_tasks", "oos_queue_runnable_tasks", "oos_queue_retrying_tasks",
                           "oos_queue_oldest_runnable_wait_seconds", "oos_queue_dead_letter_tasks",
                           "oos_queue_runs_total", "oos_queue_run_seconds_total", "oos_queue_paused",
                           "oos_queue_breaker_state", "oos_queue_breaker_consecutive_failures"}) {
    auto type = std::string(name).ends_with("_total") ? "counter" : "gauge";
    BOOST_TEST(count_lines(t, std::string("# TYPE ") + name + " " + type) == 1, name);
    BOOST_TEST(t.find(std::string("# HELP ") + name + " ") != std::string::npos, name);
  }
  BOOST_TEST(t.ends_with("\n"));
}

BOOST_FIXTURE_TEST_CASE(an_empty_database_has_only_the_dead_letter_total, StoreFixture) {
  auto t = metrics::queue_metrics(*db, config, *logger, clock.now()).text();
  BOOST_TEST(t ==
             "# HELP oos_queue_dead_letter_tasks Dead tasks of every queue: the dead letter queue of oos-retry\n"
             "# TYPE oos_queue_dead_letter_tasks gauge\noos_queue_dead_letter_tasks 0\n");
}

BOOST_FIXTURE_TEST_CASE(label_values_are_queue_names_as_they_are, StoreFixture) {
  add("mail.eu:2");
  auto t = metrics::queue_metrics(*db, config, *logger, clock.now()).text();
  BOOST_TEST(sample(t, R"(oos_queue_runnable_tasks{queue="mail.eu:2"})") == 1.0, t);
}

// Per key of every stored ring, by fingerprint: whether it is handed out, when its cooldown ends, its uses today
// (yesterday's do not count) and its last use.
BOOST_FIXTURE_TEST_CASE(each_stored_key_of_a_ring_has_its_gauges_labelled_by_fingerprint, StoreFixture) {
  keys::SqliteKeyRingStore rings(*db);
  const util::UnixMillis day = 86'400'000;
  auto t0 = clock.now();
  rings.pick("B_KEYS", {"fb1"}, t0 - day);  // yesterday
  rings.pick("A_KEYS", {"fa1", "fa2"}, t0);
  rings.pick("A_KEYS", {"fa1", "fa2"}, t0 + 1'000);
  rings.pick("A_KEYS", {"fa1", "fa2"}, t0 + 2'000);
  rings.cool_down("A_KEYS", "fa2", t0 + 3'600'000);
  clock.advance(5'000);
  auto t = metrics::queue_metrics(*db, config, *logger, clock.now()).text();
  BOOST_TEST(sample(t, R"(oos_key_ring_key_available{ring="A_KEYS",key="fa1"})") == 1.0, t);
  BOOST_TEST(sample(t, R"(oos_key_ring_key_available{ring="A_KEYS",key="fa2"})") == 0.0);
  BOOST_TEST(sample(t, R"(oos_key_ring_key_available{ring="B_KEYS",key="fb1"})") == 1.0);
  BOOST_TEST(sample(t, R"(oos_key_ring_key_cooldown_until_seconds{ring="A_KEYS",key="fa2"})") ==
             static_cast<double>(t0 + 3'600'000) / 1000);
  BOOST_TEST(sample(t, R"(oos_key_ring_key_cooldown_until_seconds{ring="A_KEYS",key="fa1"})") == 0.0);
  BOOST_TEST(sample(t, R"(oos_key_ring_key_uses_today{ring="A_KEYS",key="fa1"})") == 2.0);
  BOOST_TEST(sample(t, R"(oos_key_ring_key_uses_today{ring="A_KEYS",key="fa2"})") == 1.0);
  BOOST_TEST(sample(t, R"(oos_key_ring_key_uses_today{ring="B_KEYS",key="fb1"})") == 0.0);
  BOOST_TEST(sample(t, R"(oos_key_ring_key_last_used_timestamp_seconds{ring="A_KEYS",key="fa1"})") ==
             static_cast<double>(t0 + 2'000) / 1000);
  for (const char* name : {"oos_key_ring_key_available", "oos_key_ring_key_cooldown_until_seconds",
                           "oos_key_ring_key_uses_today", "oos_key_ring_key_last_used_timestamp_seconds"})
    BOOST_TEST(count_lines(t, std::string("# TYPE ") + name + " gauge") == 1, name);
}

BOOST_AUTO_TEST_SUITE_END()
