// oos-worker@.service under a real systemd: start, STATUS=, the watchdog, stop during a task, a bad
// config, the journal fields.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "system/oos_container.hpp"

using oos::test::OosContainer;
using oos::test::wait_until;
using namespace std::chrono_literals;

namespace {

const std::string k_worker = "oos-worker@1.service";

// Short watchdog and restart delay, so that a test sees a kill and a restart in seconds.
constexpr const char* k_fast_restarts = "[Service]\nWatchdogSec=3\nRestartSec=1\n";

void start_worker(OosContainer& c) {
  c.must("systemctl start " + k_worker);
  BOOST_TEST_REQUIRE(c.property(k_worker, "ActiveState") == "active");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(worker_unit)

BOOST_AUTO_TEST_CASE(the_target_starts_a_worker_whose_status_shows_what_it_does) {
  OosContainer c("target");
  c.must("systemctl start oos.target");
  BOOST_TEST_REQUIRE(c.wait_for_property(k_worker, "ActiveState", "active", 10s),
                     c.sh("systemctl status " + k_worker).out);
  for (const auto* timer : {"oos-backup.timer", "oos-integrity.timer", "oos-cleanup.timer"})
    BOOST_TEST(c.property(timer, "ActiveState") == "active", timer);
  auto status_text = c.property(k_worker, "StatusText");
  BOOST_TEST(!status_text.empty());
  auto shown = c.sh("systemctl status --no-pager --lines=0 " + k_worker).out;
  BOOST_TEST(shown.find("Status: \"" + status_text) != std::string::npos, shown);
  BOOST_TEST(c.property(k_worker, "User") == "oos");
}

BOOST_AUTO_TEST_CASE(a_frozen_worker_is_killed_by_the_watchdog_and_its_task_completes) {
  OosContainer c("watchdog");
  c.drop_in("oos-worker@.service", "test", k_fast_restarts);
  start_worker(c);
  auto id = c.enqueue("sleep", R"({"seconds":3})");
  BOOST_TEST_REQUIRE(wait_until([&] { return c.task_state(id) == "running"; }, 10s));
  auto pid = c.property(k_worker, "MainPID");
  c.must("kill -STOP " + pid);

  BOOST_TEST_REQUIRE(wait_until([&] { return c.property(k_worker, "NRestarts") != "0"; }, 20s),
                     c.sh("journalctl --no-pager -u " + k_worker).out);
  BOOST_TEST(c.property(k_worker, "MainPID") != pid);
  BOOST_TEST(c.sh("journalctl --no-pager -u " + k_worker).out.find("Watchdog timeout") != std::string::npos);
  BOOST_TEST_REQUIRE(wait_until([&] { return c.task_state(id) == "succeeded"; }, 30s), c.task_state(id));
  BOOST_TEST(c.task_attempts(id) == 2);  // the lost attempt and the one that succeeded
}

BOOST_AUTO_TEST_CASE(a_stop_during_a_long_task_ends_in_time_and_keeps_the_task) {
  OosContainer c("stop");
  start_worker(c);
  auto id = c.enqueue("sleep", R"({"seconds":120})");
  BOOST_TEST_REQUIRE(wait_until([&] { return c.task_state(id) == "running"; }, 10s));

  auto started = std::chrono::steady_clock::now();
  c.must("systemctl stop " + k_worker);
  auto took = std::chrono::steady_clock::now() - started;
  // shutdown_grace is 2 s in the test config; TimeoutStopSec (45 s) would end in SIGKILL and Result=timeout.
  BOOST_TEST(took < 15s);
  BOOST_TEST(c.property(k_worker, "Result") == "success");
  BOOST_TEST(c.property(k_worker, "ExecMainStatus") == "0");
  BOOST_TEST(c.task_state(id) == "pending");
  BOOST_TEST(c.task_attempts(id) == 0);  // released, not counted against it
}

BOOST_AUTO_TEST_CASE(a_bad_config_exits_78_and_is_not_restarted_in_a_loop) {
  OosContainer c("badconfig");
  c.drop_in("oos-worker@.service", "test", k_fast_restarts);
  c.must("printf '[queue]\\nno_such_key = 1\\n' > /etc/oos/oos.toml");
  BOOST_TEST(c.sh("systemctl start " + k_worker).exit_code != 0);
  BOOST_TEST_REQUIRE(c.wait_for_property(k_worker, "ActiveState", "failed", 10s));
  BOOST_TEST(c.property(k_worker, "ExecMainStatus") == "78");
  std::this_thread::sleep_for(3s);  // three RestartSec periods
  BOOST_TEST(c.property(k_worker, "NRestarts") == "0");
  BOOST_TEST(c.property(k_worker, "ActiveState") == "failed");
  auto journal = c.sh("journalctl --no-pager -u " + k_worker).out;
  BOOST_TEST(journal.find("no_such_key") != std::string::npos, journal);
}

BOOST_AUTO_TEST_CASE(the_journal_finds_a_tasks_lines_by_its_id) {
  OosContainer c("journal");
  start_worker(c);
  auto first = c.enqueue("ok");
  auto second = c.enqueue("ok");
  BOOST_TEST_REQUIRE(wait_until([&] { return c.task_state(second) == "succeeded"; }, 10s));
  BOOST_TEST_REQUIRE(c.task_state(first) == "succeeded");
  c.must("journalctl --sync");
  auto lines = c.sh("journalctl --no-pager -o cat OOS_TASK_ID=" + std::to_string(first)).out;
  BOOST_TEST(!lines.empty());
  BOOST_TEST(lines.find("task " + std::to_string(first)) != std::string::npos, lines);
  BOOST_TEST(lines.find("task " + std::to_string(second)) == std::string::npos, lines);
  auto fields = c.sh("journalctl --no-pager -o verbose OOS_TASK_ID=" + std::to_string(first)).out;
  BOOST_TEST(fields.find("SYSLOG_IDENTIFIER=oos-worker") != std::string::npos, fields);
  BOOST_TEST(fields.find("OOS_WORKER=1") != std::string::npos, fields);
}

BOOST_AUTO_TEST_SUITE_END()
