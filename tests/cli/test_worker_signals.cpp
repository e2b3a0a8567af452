// oos-worker run in the background: leases (renewal, reclaim after a SIGKILL, a lease taken over), SIGTERM
// while a task runs (finish within the grace, or release), and several workers sharing one database.
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <chrono>

#include "cli/cli_support.hpp"

using oos::test::BackgroundProcess;
using oos::test::CliFixture;
using oos::test::eventually;
using oos::test::group_alive;
using oos::test::handler_toml;
using oos::test::KillAtExit;
using oos::test::now_ms;
using oos::test::read_pid;
using oos::test::scaled;
using oos::test::wait_for_gate;
using oos::test::write_file;
using namespace std::chrono_literals;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double seconds(std::chrono::milliseconds duration) {
  return std::chrono::duration<double>(duration).count();
}

// A handler that records its pid (its process group) and that it started, then runs `rest`.
std::string announcing(const CliFixture& f, const std::string& rest) {
  return "echo $$ > '" + (f.dir() / "handler.pid").string() + "'\ntouch '" + (f.dir() / "started").string() + "'\n" +
         rest;
}

// Waits until the handler of `announcing` has started, pumping `worker`.
bool handler_started(const CliFixture& f, BackgroundProcess& worker) {
  return eventually([&] { return read_pid(f.dir() / "handler.pid") && std::filesystem::exists(f.dir() / "started"); },
                    scaled(10s), {&worker});
}

// The gate a handler waits for (wait_for_gate), opened by open_gate.
std::filesystem::path gate(const CliFixture& f) {
  return f.dir() / "gate";
}

void open_gate(const CliFixture& f) {
  write_file(gate(f), "");
}

std::string breaker_failures_sql() {
  return "SELECT coalesce((SELECT consecutive_failures FROM breakers WHERE kind = 'queue' AND name = 'default'), 0)";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(worker_signals)

BOOST_FIXTURE_TEST_CASE(the_task_of_a_killed_worker_is_reclaimed_once_its_lease_expired, CliFixture) {
  KillAtExit cleanup(dir() / "handler.pid", KillAtExit::Target::group);
  write_config(
      "[queue]\nlease = \"2s\"\n\n[worker]\npoll_interval = \"100ms\"\n\n" +
      handler_toml("once", write_script("once.sh", "if [ \"$OOS_ATTEMPT\" = 1 ]; then\n" +
                                                       announcing(*this, "exec sleep 60\n") + "fi\necho done\n")));
  enqueue("default", "once");
  auto a = start_worker({"--name", "A"});
  BOOST_TEST_REQUIRE(handler_started(*this, *a));
  a->signal(SIGKILL);  // the worker only: its handler, in its own process group, sleeps on
  BOOST_TEST(a->wait(scaled(5s)) == 128 + SIGKILL);
  BOOST_TEST(sql_text("SELECT status || '/' || lease_owner FROM tasks") == "running/A");

  // --drain does not wait for a task that runs elsewhere; B starts once A's lease has run out.
  BOOST_TEST_REQUIRE(eventually([&] { return sql_int("SELECT lease_expires_at FROM tasks") < now_ms(); }, scaled(5s)));
  auto b = worker({"--name", "B", "--drain"});
  BOOST_TEST(b.exit_code == 0, b.err);
  BOOST_TEST(sql_text("SELECT status || '/' || attempts || '/' || result FROM tasks") == "succeeded/2/done\n");
  BOOST_TEST(sql_text("SELECT worker || '/' || error FROM task_attempts WHERE attempt = 1") ==
             "A/lease expired (worker lost)");
  BOOST_TEST(sql_text("SELECT outcome FROM task_attempts WHERE attempt = 1") == "lost");
  BOOST_TEST(sql_text("SELECT worker || '/' || outcome FROM task_attempts WHERE attempt = 2") == "B/succeeded");
  BOOST_TEST(b.err.find("lease of worker 'A' expired") != std::string::npos, b.err);
}

BOOST_FIXTURE_TEST_CASE(a_handler_running_longer_than_the_lease_keeps_its_task, CliFixture) {
  KillAtExit cleanup(dir() / "handler.pid", KillAtExit::Target::group);
  // Renewed every lease/3, a lease survives a worker that is late by less than 2/3 of it: scaled, like a deadline.
  auto lease = scaled(1s);
  // The first attempt runs until the test has looked (a second one, after a reclaim, would end at once).
  write_config("[queue]\nlease = \"" + std::to_string(lease.count()) + "ms\"\n\n" +
               handler_toml("long", write_script("long.sh", "if [ \"$OOS_ATTEMPT\" = 1 ]; then\n" +
                                                                announcing(*this, wait_for_gate(gate(*this))) +
                                                                "fi\necho finished\n")));
  enqueue("default", "long");
  auto a = start_worker({"--name", "A", "--max-tasks", "1"});
  BOOST_TEST_REQUIRE(handler_started(*this, *a));
  auto started = std::chrono::steady_clock::now();
  auto past_first_lease = 1.5 * seconds(lease);
  eventually([&] { return seconds_since(started) >= past_first_lease; }, 2 * lease, {a.get()});  // past the first lease
  auto b = worker({"--name", "B", "--drain"});  // reclaims whatever expired
  BOOST_TEST(b.exit_code == 0, b.err);
  auto state = sql_text("SELECT status || '/' || lease_owner || '/' || attempts FROM tasks");
  BOOST_TEST(state == "running/A/1", state << "\n" << b.err);
  open_gate(*this);
  BOOST_TEST(a->wait(scaled(10s)) == 0, a->err());
  BOOST_TEST(sql_text("SELECT status || '/' || attempts || '/' || result FROM tasks") == "succeeded/1/finished\n");
  BOOST_TEST(sql_text("SELECT group_concat(worker || ':' || outcome) FROM task_attempts") == "A:succeeded");
}

BOOST_FIXTURE_TEST_CASE(a_worker_whose_lease_was_taken_over_kills_its_handler_and_records_nothing, CliFixture) {
  KillAtExit cleanup(dir() / "handler.pid", KillAtExit::Target::group);
  write_config("[queue]\nlease = \"3s\"\n\n" +
               handler_toml("long", write_script("long.sh", announcing(*this, "exec sleep 60\n"))));
  enqueue("default", "long");
  auto a = start_worker({"--name", "A", "--max-tasks", "1"});
  BOOST_TEST_REQUIRE(handler_started(*this, *a));
  sql_exec("UPDATE tasks SET lease_owner = 'B', lease_token = 'taken-by-the-test', lease_expires_at = " +
           std::to_string(now_ms() + 60'000));
  BOOST_TEST(a->wait(scaled(5s)) == 0, a->err());  // its next renewal (after 1s) fails
  BOOST_TEST(a->err().find("lease lost") != std::string::npos, a->err());
  auto pgid = *read_pid(dir() / "handler.pid");
  BOOST_TEST(eventually([&] { return !group_alive(pgid); }, scaled(1s)), "handler group " << pgid << " survived");
  BOOST_TEST(sql_text("SELECT status || '/' || lease_owner || '/' || lease_token FROM tasks") ==
             "running/B/taken-by-the-test");
  BOOST_TEST(sql_int("SELECT count(*) FROM task_attempts") == 0);
}

BOOST_FIXTURE_TEST_CASE(sigterm_lets_the_running_task_finish_then_exits_0, CliFixture) {
  KillAtExit cleanup(dir() / "handler.pid", KillAtExit::Target::group);
  write_config(
      handler_toml("short", write_script("short.sh", announcing(*this, wait_for_gate(gate(*this)) + "echo done\n"))));
  enqueue("default", "short");
  enqueue("default", "short");  // not started: the worker stops claiming
  auto w = start_worker({"--name", "A"});
  BOOST_TEST_REQUIRE(handler_started(*this, *w));
  w->signal(SIGTERM);
  // The handler ends only once the worker has taken in the stop: it finishes during the shutdown grace.
  BOOST_TEST(eventually([&] { return w->err().find("stopping: task 1") != std::string::npos; }, scaled(5s), {w.get()}),
             w->err());
  open_gate(*this);
  BOOST_TEST(w->wait(scaled(10s)) == 0, w->err());
  BOOST_TEST(sql_text("SELECT status || '/' || result FROM tasks WHERE id = 1") == "succeeded/done\n");
  BOOST_TEST(sql_text("SELECT status || '/' || attempts FROM tasks WHERE id = 2") == "pending/0");
}

BOOST_FIXTURE_TEST_CASE(sigterm_releases_a_task_that_outlives_the_shutdown_grace, CliFixture) {
  KillAtExit cleanup(dir() / "handler.pid", KillAtExit::Target::group);
  write_config("[worker]\nshutdown_grace = \"1s\"\n\n" +
               handler_toml("endless", write_script("endless.sh", announcing(*this, "exec sleep 60\n"))));
  enqueue("default", "endless");
  auto w = start_worker({"--name", "A"});
  BOOST_TEST_REQUIRE(handler_started(*this, *w));
  auto pgid = *read_pid(dir() / "handler.pid");
  auto stopped = std::chrono::steady_clock::now();
  w->signal(SIGTERM);
  auto code = w->wait(scaled(10s));
  auto took = seconds_since(stopped);
  BOOST_TEST(code == 0, w->err());
  BOOST_TEST(took >= 0.9, took);  // the grace was given
  // grace + at most the kill grace, not the handler's 60s (the margin, for the worker to react and exit, scaled)
  BOOST_TEST(took < 6.0 + seconds(scaled(1s)), took);
  BOOST_TEST(sql_text("SELECT status || '/' || attempts FROM tasks") == "pending/0");
  BOOST_TEST(sql_int("SELECT last_error IS NULL AND lease_token IS NULL FROM tasks") == 1);
  BOOST_TEST(sql_int("SELECT count(*) FROM task_attempts") == 0);  // no failure recorded
  BOOST_TEST(sql_int(breaker_failures_sql()) == 0);
  BOOST_TEST(eventually([&] { return !group_alive(pgid); }, scaled(1s)), "handler group " << pgid << " survived");
  BOOST_TEST(w->err().find("released") != std::string::npos, w->err());
}

// systemd's KillMode=control-group sends SIGTERM to the handler too: the handler's death is not its failure.
BOOST_FIXTURE_TEST_CASE(a_handler_terminated_together_with_the_worker_is_released, CliFixture) {
  KillAtExit cleanup(dir() / "handler.pid", KillAtExit::Target::group);
  write_config(handler_toml("endless", write_script("endless.sh", announcing(*this, "exec sleep 60\n"))));
  enqueue("default", "endless");
  auto w = start_worker({"--name", "A"});
  BOOST_TEST_REQUIRE(handler_started(*this, *w));
  auto pgid = *read_pid(dir() / "handler.pid");
  w->signal(SIGTERM);
  ::kill(-pgid, SIGTERM);
  BOOST_TEST(w->wait(scaled(10s)) == 0, w->err());
  auto state = sql_text("SELECT status || '/' || attempts FROM tasks");
  BOOST_TEST(state == "pending/0", state << "\n" << w->err());
  auto attempts = sql_int("SELECT count(*) FROM task_attempts");
  BOOST_TEST(attempts == 0, attempts << " attempts recorded\n" << w->err());
}

BOOST_FIXTURE_TEST_CASE(sigterm_and_sigint_stop_an_idle_worker_at_once, CliFixture) {
  // At once: not at the end of the poll interval it is sleeping through.
  write_config("[worker]\npoll_interval = \"1m\"\n\n" + handler_toml("noop", "/bin/true"));
  for (int signal : {SIGTERM, SIGINT}) {
    auto w = start_worker({"--name", "idle"});
    BOOST_TEST_REQUIRE(
        eventually([&] { return w->err().find("started") != std::string::npos; }, scaled(5s), {w.get()}));
    auto stopped = std::chrono::steady_clock::now();
    w->signal(signal);
    BOOST_TEST(w->wait(scaled(5s)) == 0, w->err());
    auto took = seconds_since(stopped);
    BOOST_TEST(took < seconds(scaled(1500ms)), took);
    BOOST_TEST(w->err().find("stopped") != std::string::npos, w->err());
  }
}

BOOST_FIXTURE_TEST_CASE(workers_started_together_on_a_new_state_directory_all_work, CliFixture) {
  write_config(handler_toml("noop", "/bin/true"));
  std::vector<std::unique_ptr<BackgroundProcess>> workers;
  for (int i = 1; i <= 4; ++i) workers.push_back(start_worker({"--name", "w" + std::to_string(i), "--drain"}));
  for (auto& w : workers) {
    BOOST_TEST(w->wait(scaled(15s)) == 0, w->err());
    BOOST_TEST(w->err().find("error") == std::string::npos, w->err());
  }
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
}

BOOST_FIXTURE_TEST_CASE(four_workers_run_300_tasks_enqueued_one_by_one, CliFixture) {
  write_config("[worker]\npoll_interval = \"100ms\"\n\n" + handler_toml("noop", "/bin/true"));
  create_database();
  std::vector<std::unique_ptr<BackgroundProcess>> workers;
  std::vector<BackgroundProcess*> pumped;
  for (int i = 1; i <= 4; ++i) {
    workers.push_back(start_worker({"--name", "w" + std::to_string(i)}));
    pumped.push_back(workers.back().get());
  }
  constexpr int k_tasks = 300;
  int failed_enqueues = 0;
  std::string enqueue_errors;
  for (int i = 0; i < k_tasks; ++i) {
    auto r = queue({"enqueue", "default", "noop", "--data", "{\"i\":" + std::to_string(i) + "}"});
    if (r.exit_code != 0) ++failed_enqueues;
    enqueue_errors += r.err;
    for (auto* w : pumped) w->pump();
  }
  BOOST_TEST(failed_enqueues == 0, enqueue_errors);
  BOOST_TEST(eventually([&] { return sql_int("SELECT count(*) FROM tasks WHERE status = 'succeeded'") == k_tasks; },
                        scaled(60s), pumped),
             sql_int("SELECT count(*) FROM tasks WHERE status = 'succeeded'") << " of " << k_tasks << " succeeded");
  for (auto& w : workers) w->signal(SIGTERM);
  for (auto& w : workers) BOOST_TEST(w->wait(scaled(10s)) == 0, w->err());
  for (const auto& err : std::vector<std::string>{enqueue_errors, workers[0]->err(), workers[1]->err(),
                                                  workers[2]->err(), workers[3]->err()}) {
    BOOST_TEST(err.find("locked") == std::string::npos, err);
    BOOST_TEST(err.find("busy") == std::string::npos, err);
  }
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE attempts != 1") == 0);
  BOOST_TEST(sql_int("SELECT count(*) FROM task_attempts WHERE outcome = 'succeeded'") == k_tasks);
  BOOST_TEST_MESSAGE(
      "tasks per worker: " << sql_text("SELECT group_concat(worker || '=' || n, ' ') FROM (SELECT "
                                       "worker, count(*) AS n FROM task_attempts GROUP BY worker) AS w"));
}

BOOST_AUTO_TEST_SUITE_END()
