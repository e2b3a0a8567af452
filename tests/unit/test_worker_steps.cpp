// The worker's decisions over a run (timeouts, renewals, the shutdown grace, a lost lease, what an exit means)
// driven in-process: handlers are scripted fakes (support/fake_launcher.hpp) and the store and the worker share
// a ManualClock that the fakes advance while the worker waits on them, so no test sleeps. test_worker.cpp runs
// real processes for what only they can show (process groups, the environment, output capture).
#include <SQLiteCpp/Exception.h>
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config.hpp"
#include "db/database.hpp"
#include "log.hpp"
#include "queue/sqlite_task_store.hpp"
#include "store/sqlite_backend.hpp"
#include "support/fake_launcher.hpp"
#include "support/printers.hpp"
#include "support/temp_dir.hpp"
#include "util/time.hpp"
#include "worker/worker.hpp"

using namespace oos;
using namespace oos::queue;
using oos::test::FakeLauncher;
using oos::worker::Step;

namespace oos::worker {
static std::ostream& operator<<(std::ostream& out, Step step) {
  return out << static_cast<int>(step);
}
}  // namespace oos::worker

namespace {

// Deadlines are kept in floating-point seconds: a step may end up to a millisecond past one.
bool within_a_ms(std::int64_t elapsed_ms, std::int64_t expected_ms) {
  return elapsed_ms >= expected_ms && elapsed_ms <= expected_ms + 1;
}

struct FakeFixture {
  test::TempDir dir;
  config::Config config = [] {
    config::Config c;
    c.queue.backoff_jitter = 0;
    c.handlers["job"].command = {"/usr/bin/job"};
    c.handlers["job"].timeout = std::chrono::minutes(10);
    return c;
  }();
  util::ManualClock clock{1'700'000'000'000};
  std::unique_ptr<log::Logger> logger = log::Logger::discard();
  std::unique_ptr<db::Database> db =
      std::make_unique<db::Database>(db::OpenOptions{dir / "oos.db", config::Synchronous::normal, util::Millis(2000)});
  SqliteTaskStore tasks{*db, config, clock, *logger};
  FakeLauncher* launcher = nullptr;  // owned by the worker
  store::SqliteBackend backend{*db, config, clock, *logger};
  std::unique_ptr<worker::Worker> worker;

  worker::Worker& make_worker() {
    auto fake = std::make_unique<FakeLauncher>(clock);
    launcher = fake.get();
    worker::WorkerOptions options;
    options.name = "w1";
    options.queues = {"default"};
    worker::HandlerInputs inputs;
    inputs.env = [](const std::string&) { return std::nullopt; };
    inputs.secrets = [](const std::string&) { return std::nullopt; };
    worker = std::make_unique<worker::Worker>(backend, config, clock, *logger, options, inputs, std::move(fake));
    return *worker;
  }

  TaskId add(const std::string& payload = "{}") {
    NewTask t;
    t.type = "job";
    t.payload = payload;
    return tasks.enqueue(t).id;
  }
  Task task(TaskId id) { return *tasks.find(id); }

  // Steps until a step is not `running`; returns that step. `each` runs after every running step.
  Step run_to_end(const std::function<void()>& each = {}) {
    for (int i = 0; i < 100'000; ++i) {
      auto step = worker->step();
      if (step != Step::running) return step;
      if (each) each();
    }
    BOOST_FAIL("the run did not end");
    return Step::running;
  }
};

// The database may grow no further than it is now: a write that needs a new page fails with SQLITE_FULL, as it
// does on a full disk (an update in place, like a lease renewal, still succeeds).
void fill_the_disk(db::Database& db) {
  auto pages = db.raw().execAndGet("PRAGMA page_count").getInt64();
  db.raw().exec("PRAGMA max_page_count = " + std::to_string(pages));
}
void free_the_disk(db::Database& db) {
  db.raw().exec("PRAGMA max_page_count = 1073741823");
}

// Steps while the worker waits to record an outcome; returns the first other step (a give-up throws).
Step step_while_recording(worker::Worker& w, std::int64_t until_failures = -1) {
  for (int i = 0; i < 100'000; ++i) {
    if (until_failures >= 0 && w.counters().record_failures >= until_failures) return Step::recording;
    auto step = w.step();
    if (step != Step::recording) return step;
  }
  BOOST_FAIL("the worker kept recording");
  return Step::recording;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(worker_steps)

BOOST_FIXTURE_TEST_CASE(the_handler_gets_the_payload_on_stdin_and_its_command, FakeFixture) {
  add(R"({"a":1})");
  auto& w = make_worker();
  launcher->script.exit.out = "result";
  BOOST_TEST(w.step() == Step::claimed);
  BOOST_REQUIRE(launcher->launched.size() == 1u);
  BOOST_TEST(launcher->launched[0].stdin_data == R"({"a":1})");
  BOOST_TEST(launcher->launched[0].argv == std::vector<std::string>{"/usr/bin/job"});
  BOOST_TEST(run_to_end() == Step::finished);
  BOOST_TEST(task(1).result.value_or("") == "result");
}

// A result cut at the stdout cap ends with a marker that says so; one not cut is stored as printed.
BOOST_FIXTURE_TEST_CASE(a_cut_result_ends_with_a_marker_of_the_cut, FakeFixture) {
  auto cut = add();
  auto& w = make_worker();
  launcher->script.exit.out = "abc";
  launcher->script.exit.out_truncated = true;
  launcher->script.exit.out_bytes = 10;
  BOOST_TEST(w.step() == Step::claimed);
  BOOST_TEST(run_to_end() == Step::finished);
  BOOST_TEST(task(cut).result.value_or("") == "abc\n[oos: output cut at 3 of 10 bytes]");
  launcher->script.exit.out_truncated = false;
  launcher->script.exit.out_bytes = 3;
  auto whole = add();  // launched only now, with the script that does not cut
  BOOST_TEST(w.step() == Step::claimed);
  BOOST_TEST(run_to_end() == Step::finished);
  BOOST_TEST(task(whole).result.value_or("") == "abc");
}

// A handler that traps SIGTERM and exits 0 after its timeout did not succeed: the run is a failed attempt,
// retried, and what it printed is not kept as a result.
BOOST_FIXTURE_TEST_CASE(a_handler_that_exits_0_on_the_timeout_signal_is_a_failed_attempt, FakeFixture) {
  config.handlers["job"].timeout = std::chrono::seconds(1);
  auto id = add();
  auto& w = make_worker();
  launcher->script.runs_for_ms = 30'000;
  launcher->script.on_term = util::ChildExit{0, std::nullopt, "partial", false, ""};
  BOOST_TEST(w.step() == Step::claimed);
  auto started = clock.now();
  BOOST_TEST(run_to_end() == Step::finished);
  BOOST_TEST(within_a_ms(clock.now() - started, 1000), "ended at the 1 s timeout");
  BOOST_TEST(launcher->signals == std::vector<int>{SIGTERM});
  auto t = task(id);
  BOOST_TEST(t.status == TaskStatus::pending);
  BOOST_TEST(t.attempts == 1);
  BOOST_TEST(t.last_error.value_or("(none)") == "timed out after 1s");
  BOOST_TEST(!t.result.has_value());
  BOOST_TEST(tasks.attempts(id).at(0).outcome == "failed");
  BOOST_TEST(w.counters().failed == 1);
  BOOST_TEST(w.counters().succeeded == 0);
}

BOOST_FIXTURE_TEST_CASE(a_handler_that_ignores_the_timeout_signal_is_killed_after_the_kill_grace, FakeFixture) {
  config.handlers["job"].timeout = std::chrono::seconds(2);
  auto id = add();
  auto& w = make_worker();
  launcher->script.runs_for_ms = 600'000;
  launcher->script.ignores_term = true;
  BOOST_TEST(w.step() == Step::claimed);
  auto started = clock.now();
  BOOST_TEST(run_to_end() == Step::finished);
  BOOST_TEST(within_a_ms(clock.now() - started, 2000 + worker::k_kill_grace.count()), "timeout, then the kill grace");
  BOOST_TEST(launcher->signals == (std::vector<int>{SIGTERM, SIGKILL}));
  BOOST_TEST(task(id).last_error.value_or("(none)") == "timed out after 2s");
}

BOOST_FIXTURE_TEST_CASE(the_lease_is_renewed_while_a_long_handler_runs, FakeFixture) {
  config.queue.lease = std::chrono::seconds(30);  // renewed every 10 s
  auto id = add();
  auto& w = make_worker();
  launcher->script.runs_for_ms = 300'000;
  launcher->script.exit.out = "finished";
  BOOST_TEST(w.step() == Step::claimed);
  std::set<long long> expiries;
  int reclaimed = 0;
  BOOST_TEST(run_to_end([&] {
               reclaimed += tasks.reclaim_expired();  // another worker looking for lost tasks
               if (auto t = task(id); t.status == TaskStatus::running) expiries.insert(*t.lease_expires_at);
             }) == Step::finished);
  BOOST_TEST(reclaimed == 0);
  BOOST_TEST(expiries.size() >= 29u, expiries.size() << " distinct lease expiries in 300 s");
  auto t = task(id);
  BOOST_TEST(t.status == TaskStatus::succeeded);
  BOOST_TEST(t.result.value_or("") == "finished");
  BOOST_TEST(w.counters().lost == 0);
}

// The lease expired (the worker could not renew it in time) and another worker reclaimed the task: the handler
// is killed and nothing is recorded for this run.
BOOST_FIXTURE_TEST_CASE(a_lost_lease_kills_the_handler_and_records_nothing, FakeFixture) {
  config.queue.lease = std::chrono::seconds(30);
  config.queue.backoff_seconds = {0};
  auto id = add();
  auto& w = make_worker();
  launcher->script.runs_for_ms = 300'000;
  BOOST_TEST(w.step() == Step::claimed);
  BOOST_TEST(w.step() == Step::running);
  clock.advance(31'000);
  BOOST_TEST(tasks.reclaim_expired() == 1);
  auto again = tasks.claim(std::vector<std::string>{"default"}, "w2");
  BOOST_REQUIRE(again);
  BOOST_TEST(run_to_end() == Step::finished);
  BOOST_TEST(launcher->signals == std::vector<int>{SIGKILL});
  BOOST_TEST(w.counters().lost == 1);
  BOOST_TEST(w.counters().failed == 0);
  auto t = task(id);
  BOOST_TEST(t.status == TaskStatus::running);
  BOOST_TEST(t.lease_owner.value_or("") == "w2");
  BOOST_TEST(tasks.attempts(id).size() == 1u);  // only the reclaim's "lost" row
}

BOOST_FIXTURE_TEST_CASE(a_handler_still_running_after_the_shutdown_grace_is_released, FakeFixture) {
  config.worker.shutdown_grace = std::chrono::seconds(25);
  auto id = add();
  auto& w = make_worker();
  launcher->script.runs_for_ms = 600'000;
  BOOST_TEST(w.step() == Step::claimed);
  auto asked = clock.now();
  w.request_stop();
  BOOST_TEST(w.status().starts_with("stopping, finishing task " + std::to_string(id)), w.status());
  BOOST_TEST(run_to_end() == Step::finished);
  BOOST_TEST(within_a_ms(clock.now() - asked, 25'000));
  BOOST_TEST(launcher->signals == std::vector<int>{SIGTERM});
  auto t = task(id);
  BOOST_TEST(t.status == TaskStatus::pending);
  BOOST_TEST(t.attempts == 0);  // the attempt is not counted
  BOOST_TEST(!t.last_error.has_value());
  BOOST_TEST(t.run_at <= clock.now());  // runnable again at once, by another worker
  BOOST_TEST(tasks.attempts(id).empty());
  BOOST_TEST(w.counters().released == 1);
  BOOST_TEST(w.step() == Step::done);
}

// Our SIGTERM at the end of the grace interrupted the work, whatever the handler exits with afterwards.
BOOST_FIXTURE_TEST_CASE(a_handler_that_exits_0_on_the_grace_signal_is_released, FakeFixture) {
  config.worker.shutdown_grace = std::chrono::seconds(25);
  auto id = add();
  auto& w = make_worker();
  launcher->script.runs_for_ms = 600'000;
  launcher->script.on_term = util::ChildExit{0, std::nullopt, "partial", false, ""};
  BOOST_TEST(w.step() == Step::claimed);
  w.request_stop();
  BOOST_TEST(run_to_end() == Step::finished);
  auto t = task(id);
  BOOST_TEST(t.status == TaskStatus::pending);
  BOOST_TEST(t.attempts == 0);
  BOOST_TEST(t.run_at <= clock.now());
  BOOST_TEST(!t.result.has_value());
  BOOST_TEST(tasks.attempts(id).empty());
  BOOST_TEST(w.counters().released == 1);
}

BOOST_FIXTURE_TEST_CASE(a_handler_that_finishes_within_the_grace_is_recorded, FakeFixture) {
  auto id = add();
  add();  // not claimed once stopping
  auto& w = make_worker();
  launcher->script.runs_for_ms = 2'000;
  launcher->script.exit.out = "done";
  BOOST_TEST(w.step() == Step::claimed);
  w.request_stop();
  BOOST_TEST(run_to_end() == Step::finished);
  BOOST_TEST(task(id).status == TaskStatus::succeeded);
  BOOST_TEST(task(id).result.value_or("") == "done");
  BOOST_TEST(launcher->signals.empty());
  BOOST_TEST(w.step() == Step::done);
  BOOST_TEST(w.counters().started == 1);
}

BOOST_FIXTURE_TEST_CASE(a_timeout_during_the_shutdown_grace_still_counts_as_a_failed_attempt, FakeFixture) {
  config.handlers["job"].timeout = std::chrono::seconds(3);
  auto id = add();
  auto& w = make_worker();
  launcher->script.runs_for_ms = 600'000;
  BOOST_TEST(w.step() == Step::claimed);
  w.request_stop();  // grace 25 s: the 3 s timeout comes first
  BOOST_TEST(run_to_end() == Step::finished);
  auto t = task(id);
  BOOST_TEST(t.status == TaskStatus::pending);
  BOOST_TEST(t.attempts == 1);
  BOOST_TEST(t.last_error.value_or("(none)") == "timed out after 3s");
  BOOST_TEST(w.counters().failed == 1);
  BOOST_TEST(w.counters().released == 0);
}

BOOST_FIXTURE_TEST_CASE(a_handler_that_cannot_start_is_a_retryable_failure_naming_it, FakeFixture) {
  auto id = add();
  auto& w = make_worker();
  launcher->fail_to_start = true;
  BOOST_TEST(w.step() == Step::finished);  // recorded in the same step
  auto t = task(id);
  BOOST_TEST(t.status == TaskStatus::pending);
  BOOST_TEST(t.last_error.value_or("").starts_with("handler 'job': cannot start '/usr/bin/job'"),
             t.last_error.value_or("(none)"));
}

// Reliability issue, item 10: a finished task whose outcome cannot be written (disk full) is not rerun. The
// result stays in memory, the write is tried again with a backoff, and once space returns the task is recorded
// once, from the one run.
BOOST_FIXTURE_TEST_CASE(an_outcome_that_cannot_be_written_is_kept_and_recorded_once_space_returns, FakeFixture) {
  config.queue.lease = std::chrono::seconds(60);
  auto id = add();
  auto& w = make_worker();
  launcher->script.runs_for_ms = 1'000;
  launcher->script.exit.out = std::string(60'000, 'r');  // needs new pages
  BOOST_TEST(w.step() == Step::claimed);
  fill_the_disk(*db);
  BOOST_TEST(run_to_end() == Step::recording);
  double first_failure = clock.monotonic();
  BOOST_TEST(step_while_recording(w, 3) == Step::recording);  // written and failed 3 times
  BOOST_TEST(task(id).status == TaskStatus::running);
  BOOST_TEST(w.status().starts_with("writing the outcome of task 1"), w.status());
  free_the_disk(*db);
  BOOST_TEST(step_while_recording(w) == Step::finished);
  // Failed at once, 0.5 s later and 1 s after that; written at the try 2 s later.
  BOOST_TEST(clock.monotonic() - first_failure == 3.5, boost::test_tools::tolerance(0.01));
  auto t = task(id);
  BOOST_TEST(t.status == TaskStatus::succeeded);
  BOOST_TEST(t.result.value_or("").size() == 60'000u);
  BOOST_TEST(t.attempts == 1);
  BOOST_TEST(launcher->launched.size() == 1u);
  BOOST_TEST(w.counters().succeeded == 1);
  BOOST_TEST(w.counters().record_failures == 3);
}

// The retries are bounded by the lease: past it another worker may take the task and run it again, so the worker
// gives up (the step throws, the worker exits 74) and the task waits for its reclaim.
// The lease is renewed meanwhile (a renewal updates in place, which a full database allows): the handler ran
// 15 s (renewed at 10 s, to 40 s), so without renewals while waiting the worker would give up at 40 s, 25 s
// after the first failure.
BOOST_FIXTURE_TEST_CASE(an_outcome_that_stays_unwritable_is_given_up_after_one_lease, FakeFixture) {
  config.queue.lease = std::chrono::seconds(30);
  auto id = add();
  auto& w = make_worker();
  launcher->script.runs_for_ms = 15'000;
  launcher->script.exit.out = std::string(60'000, 'r');
  auto claimed_at = clock.now();
  BOOST_TEST(w.step() == Step::claimed);
  fill_the_disk(*db);
  BOOST_TEST(run_to_end() == Step::recording);
  double first_failure = clock.monotonic();
  BOOST_CHECK_THROW(step_while_recording(w), SQLite::Exception);
  BOOST_TEST(clock.monotonic() - first_failure == 30.0, boost::test_tools::tolerance(0.01));
  auto t = task(id);
  BOOST_TEST(t.status == TaskStatus::running);                        // reclaimed once its lease expires
  BOOST_TEST(t.lease_expires_at.value_or(0) - claimed_at >= 60'000);  // renewed at 40 s at the latest
  BOOST_TEST(w.counters().succeeded == 0);
}

// Another worker took the task while the outcome waited (the worker stalled past its lease): the write is
// fenced off, this run's result is dropped, and the task is the other worker's.
BOOST_FIXTURE_TEST_CASE(an_outcome_whose_task_was_taken_meanwhile_is_dropped, FakeFixture) {
  config.queue.lease = std::chrono::seconds(30);
  config.queue.backoff_seconds = {0};
  auto id = add();
  auto& w = make_worker();
  launcher->script.exit.out = std::string(60'000, 'r');
  fill_the_disk(*db);
  BOOST_TEST(w.step() == Step::claimed);
  BOOST_TEST(run_to_end() == Step::recording);
  free_the_disk(*db);
  clock.advance(31'000);
  BOOST_TEST(tasks.reclaim_expired() == 1);
  BOOST_REQUIRE(tasks.claim(std::vector<std::string>{"default"}, "w2"));
  BOOST_TEST(step_while_recording(w) == Step::finished);
  auto t = task(id);
  BOOST_TEST(t.status == TaskStatus::running);
  BOOST_TEST(t.lease_owner.value_or("") == "w2");
  BOOST_TEST(!t.result);
  BOOST_TEST(w.counters().succeeded == 0);
}

// A stop request bounds the retries by the shutdown grace.
BOOST_FIXTURE_TEST_CASE(a_stop_while_an_outcome_waits_gives_up_at_the_end_of_the_grace, FakeFixture) {
  config.queue.lease = std::chrono::minutes(5);
  add();
  auto& w = make_worker();
  launcher->script.exit.out = std::string(60'000, 'r');
  fill_the_disk(*db);
  BOOST_TEST(w.step() == Step::claimed);
  BOOST_TEST(run_to_end() == Step::recording);
  double stop_at = clock.monotonic();
  w.request_stop();
  BOOST_CHECK_THROW(step_while_recording(w), SQLite::Exception);
  BOOST_TEST(clock.monotonic() - stop_at == 25.0, boost::test_tools::tolerance(0.01));  // worker.shutdown_grace
}

// A reload (replace_handlers) while a task runs: that task keeps the handler it started with (its exit code 3 is
// retryable, as it was when it started, not permanent as the new handler says), the next one claimed runs the new
// command with the new 1 s timeout.
BOOST_FIXTURE_TEST_CASE(a_reload_changes_the_handler_of_the_next_task_not_of_the_running_one, FakeFixture) {
  auto first = add();
  auto second = add();
  auto& w = make_worker();
  launcher->script.runs_for_ms = 2'000;
  launcher->script.exit.exit_code = 3;
  BOOST_TEST(w.step() == Step::claimed);
  auto handlers = w.handlers();
  handlers["job"].command = {"/usr/bin/job2"};
  handlers["job"].timeout = std::chrono::seconds(1);
  handlers["job"].permanent_exit_codes = {3};
  w.replace_handlers(handlers);
  BOOST_TEST(w.handlers().at("job").command == std::vector<std::string>{"/usr/bin/job2"});
  BOOST_TEST(config.handlers.at("job").command == std::vector<std::string>{"/usr/bin/job"});  // the config stays

  BOOST_TEST(run_to_end() == Step::finished);
  auto t1 = task(first);
  BOOST_TEST(t1.status == TaskStatus::pending);    // exit 3 under the handler it started with: retried, not dead
  BOOST_REQUIRE(launcher->launched.size() == 2u);  // the next one claimed with the outcome
  BOOST_TEST(launcher->launched[1].argv == std::vector<std::string>{"/usr/bin/job2"});
  BOOST_TEST(run_to_end() == Step::finished);
  auto t2 = task(second);
  BOOST_TEST(t2.last_error.value_or("").find("timed out after 1s") != std::string::npos, t2.last_error.value_or(""));
}

BOOST_AUTO_TEST_SUITE_END()
