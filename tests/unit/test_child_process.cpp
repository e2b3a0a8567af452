#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/temp_dir.hpp"
#include "util/child_process.hpp"
#include "util/time.hpp"

using oos::util::ChildExit;
using oos::util::ChildProcess;
using oos::util::ChildSpec;

namespace {

ChildSpec shell(const std::string& script, std::string input = "") {
  ChildSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  spec.env = {"PATH=/usr/bin:/bin", "ONLY=this"};
  spec.stdin_data = std::move(input);
  return spec;
}

// Steps the child until it is done or `seconds` pass; returns whether it finished.
bool run_for(ChildProcess& child, double seconds) {
  double deadline = oos::util::monotonic_seconds() + seconds;
  while (oos::util::monotonic_seconds() < deadline)
    if (child.step(50)) return true;
  return false;
}

// Whether `pid` is alive: a killed orphan stays a zombie until init reaps it, which counts as dead.
bool process_exists(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  auto state = line.find(") ");
  return state != std::string::npos && line[state + 2] != 'Z' && line[state + 2] != 'X';
}

}  // namespace

BOOST_AUTO_TEST_SUITE(child_process)

BOOST_AUTO_TEST_CASE(exit_code_stdout_and_stderr_are_collected) {
  ChildProcess child(shell("cat; echo oops >&2; exit 3", "payload"));
  BOOST_REQUIRE(run_for(child, 5));
  BOOST_TEST(*child.result().exit_code == 3);
  BOOST_TEST(child.result().out == "payload");
  BOOST_TEST(child.result().err_tail == "oops\n");
  BOOST_TEST(!child.result().signal.has_value());
}

BOOST_AUTO_TEST_CASE(the_environment_is_exactly_the_one_given) {
  ChildProcess child(shell("env | sort"));
  BOOST_REQUIRE(run_for(child, 5));
  // sh adds PWD (and may add SHLVL/_), nothing of ours leaks through.
  BOOST_TEST(child.result().out.find("ONLY=this\n") != std::string::npos);
  BOOST_TEST(child.result().out.find("HOME=") == std::string::npos);
  BOOST_TEST(child.result().out.find("BOOST") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(stdout_is_capped_and_stderr_keeps_its_tail) {
  auto spec =
      shell("head -c 100000 /dev/zero | tr '\\000' a; i=0; while [ $i -lt 300 ]; do echo line$i >&2; i=$((i+1)); done");
  spec.stdout_cap = 1000;
  spec.stderr_tail = 16;
  ChildProcess child(spec);
  BOOST_REQUIRE(run_for(child, 10));
  BOOST_TEST(child.result().out == std::string(1000, 'a'));
  BOOST_TEST(child.result().out_truncated);
  BOOST_TEST(child.result().out_bytes == 100000u);
  BOOST_TEST(child.result().err_tail == "line298\nline299\n");
}

BOOST_AUTO_TEST_CASE(a_large_stdin_reaches_a_child_that_writes_while_it_reads) {
  std::string input(1 << 20, 'x');
  auto spec = shell("cat", input);
  spec.stdout_cap = input.size();
  ChildProcess child(spec);
  BOOST_REQUIRE(run_for(child, 10));
  BOOST_TEST(child.result().out.size() == input.size());
}

BOOST_AUTO_TEST_CASE(signalling_the_group_kills_grandchildren_too) {
  oos::test::TempDir dir;
  auto pidfile = (dir / "grandchild.pid").string();
  ChildProcess child(shell("sleep 100 & echo $! > " + pidfile + "; wait"));
  for (int i = 0; i < 100 && !std::filesystem::exists(pidfile); ++i) child.step(20);
  child.step(50);
  BOOST_REQUIRE(std::filesystem::exists(pidfile));
  std::ifstream in(pidfile);
  pid_t grandchild = 0;
  in >> grandchild;
  BOOST_REQUIRE(grandchild > 0);
  BOOST_TEST(process_exists(grandchild));
  child.signal_group(SIGTERM);
  BOOST_REQUIRE(run_for(child, 5));
  BOOST_TEST(*child.result().signal == SIGTERM);
  for (int i = 0; i < 50 && process_exists(grandchild); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  BOOST_TEST(!process_exists(grandchild));
}

BOOST_AUTO_TEST_CASE(what_a_finished_leader_left_running_is_killed) {
  oos::test::TempDir dir;
  auto pidfile = (dir / "daemon.pid").string();
  ChildProcess child(shell("sleep 100 & echo $! > " + pidfile + "; exit 0"));
  BOOST_REQUIRE(run_for(child, 5));  // does not wait for the sleep that holds stdout open
  BOOST_TEST(*child.result().exit_code == 0);
  std::ifstream in(pidfile);
  pid_t daemon = 0;
  in >> daemon;
  for (int i = 0; i < 50 && process_exists(daemon); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  BOOST_TEST(!process_exists(daemon));
}

// The reliability issue's handler: a daemon that left the process group (setsid) keeps stdout and stderr
// open. The run ends shortly after the leader, with what was printed, and the daemon is killed.
BOOST_AUTO_TEST_CASE(a_daemon_outside_the_group_holding_the_output_does_not_hold_the_run) {
  oos::test::TempDir dir;
  auto pidfile = (dir / "daemon.pid").string();
  ChildProcess child(shell("setsid sh -c 'echo $$ > " + pidfile + "; exec sleep 5' & while [ ! -s " + pidfile +
                           " ]; do sleep 0.01; done; echo done; exit 0"));
  double started = oos::util::monotonic_seconds();
  BOOST_REQUIRE(run_for(child, 8));
  double took = oos::util::monotonic_seconds() - started;
  BOOST_TEST(took < 1.0);
  BOOST_TEST(*child.result().exit_code == 0);
  BOOST_TEST(child.result().out == "done\n");
  BOOST_TEST(child.result().output_held);
  BOOST_TEST(child.result().held_killed == 1);
  std::ifstream in(pidfile);
  pid_t daemon = 0;
  in >> daemon;
  BOOST_REQUIRE(daemon > 0);
  for (int i = 0; i < 50 && process_exists(daemon); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  BOOST_TEST(!process_exists(daemon));
}

// A timeout's signal ends the leader; the run ends then, not when the escaped daemon would.
BOOST_AUTO_TEST_CASE(a_signalled_leader_ends_the_run_whatever_holds_its_output) {
  std::error_code ec;
  oos::test::TempDir dir;
  auto pidfile = (dir / "daemon.pid").string();
  ChildProcess child(shell("setsid sh -c 'echo $$ > " + pidfile + "; exec sleep 5' & while [ ! -s " + pidfile +
                           " ]; do sleep 0.01; done; exec sleep 30"));
  for (int i = 0; i < 100 && (std::filesystem::file_size(pidfile, ec) == 0 || ec); ++i) child.step(20);
  child.signal_group(SIGTERM);
  double started = oos::util::monotonic_seconds();
  BOOST_REQUIRE(run_for(child, 8));
  BOOST_TEST(oos::util::monotonic_seconds() - started < 1.0);
  BOOST_TEST(*child.result().signal == SIGTERM);
  BOOST_TEST(child.result().output_held);
}

// Output that ends with its leader is read to its end: nothing is cut by the drain time.
BOOST_AUTO_TEST_CASE(output_is_not_marked_held_when_it_ends_with_the_group) {
  ChildProcess child(shell("sleep 1 & echo hi; exit 0"));
  BOOST_REQUIRE(run_for(child, 5));
  BOOST_TEST(child.result().out == "hi\n");
  BOOST_TEST(!child.result().output_held);
}

BOOST_AUTO_TEST_CASE(destroying_a_running_child_kills_it) {
  pid_t pid = 0;
  {
    ChildProcess child(shell("sleep 100"));
    pid = child.pid();
    child.step(10);
  }
  BOOST_TEST(!process_exists(pid));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(child_process)

BOOST_AUTO_TEST_CASE(a_child_that_exits_without_reading_its_stdin_does_not_kill_us) {
  ChildProcess child(shell("exit 7", std::string(1 << 20, 'x')));
  BOOST_REQUIRE(run_for(child, 5));
  BOOST_TEST(*child.result().exit_code == 7);
}

BOOST_AUTO_TEST_SUITE_END()
