// oos-worker run in the foreground (--max-tasks, --drain): what each way a handler ends means for its task
// (docs/reference.md section 6), the handler's environment and secrets, timeouts, and the command line.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <map>
#include <set>
#include <sstream>

#include "cli/cli_support.hpp"

using oos::test::CliFixture;
using oos::test::eventually;
using oos::test::handler_toml;
using oos::test::is_one_error_line;
using oos::test::KillAtExit;
using oos::test::log_time;
using oos::test::now_ms;
using oos::test::process_alive;
using oos::test::read_file;
using oos::test::read_pid;
using oos::test::scaled;
using namespace std::chrono_literals;

namespace {

// Obviously fake secret values: never real credentials.
constexpr const char* k_pat = "test-secret-value-0001";
constexpr const char* k_other_secret = "test-other-secret-0002";

// The breaker's count of consecutive failed runs of `queue` (0 while it never counted one).
std::string breaker_failures_sql(const std::string& queue) {
  return "SELECT coalesce((SELECT consecutive_failures FROM breakers WHERE kind = 'queue' AND name = '" + queue +
         "'), 0)";
}

// "NAME=value" lines of an `env` dump, by name.
std::map<std::string, std::string> parse_env(const std::string& dump) {
  std::map<std::string, std::string> env;
  std::istringstream lines(dump);
  for (std::string line; std::getline(lines, line);) {
    auto eq = line.find('=');
    if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

// Every byte of the state directory (database, WAL, shared memory), to look for a secret in; on PostgreSQL also
// every row of the tables a worker writes, as text.
std::string state_bytes(CliFixture& f) {
  std::string all;
  if (std::filesystem::exists(f.state_dir()))
    for (const auto& entry : std::filesystem::directory_iterator(f.state_dir()))
      if (entry.is_regular_file()) all += read_file(entry.path());
  if (f.backend() == oos::test::TestBackend::pg)
    for (const char* table : {"tasks", "task_attempts", "events", "workers", "breakers", "queues", "queue_counters"})
      all +=
          f.sql_text(std::string("SELECT coalesce(string_agg(CAST(r AS text), E'\\n'), '') FROM ") + table + " AS r");
  return all;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double seconds(std::chrono::milliseconds duration) {
  return std::chrono::duration<double>(duration).count();
}

// The seconds between the first records of the worker's log `err` that contain `from` and `to`: on its own
// clock, so without the time it took to start (a sanitizer build's start is slow) or to exit; -1 when one of
// them is missing.
double logged_seconds(const std::string& err, std::string_view from, std::string_view to) {
  auto start = log_time(err, from), end = log_time(err, to);
  return start && end ? static_cast<double>(*end - *start) / 1000.0 : -1.0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(worker)

BOOST_FIXTURE_TEST_CASE(exit_0_succeeds_and_keeps_stdout_as_the_result, CliFixture) {
  write_config(handler_toml("echo", write_script("echo.sh", "printf 'got '; cat\n")));
  auto id = enqueue("default", "echo", {"--data", R"({"n":1})"});
  auto r = worker({"--max-tasks", "1", "--name", "w1"});
  BOOST_TEST(r.exit_code == 0, r.err);
  auto where = " FROM tasks WHERE id = " + std::to_string(id);
  BOOST_TEST(sql_text("SELECT status" + where) == "succeeded");
  BOOST_TEST(sql_text("SELECT result" + where) == R"(got {"n":1})");  // the payload came on stdin
  BOOST_TEST(sql_int("SELECT attempts" + where) == 1);
  BOOST_TEST(sql_text("SELECT worker || '/' || outcome || '/' || exit_code FROM task_attempts") == "w1/succeeded/0");
}

BOOST_FIXTURE_TEST_CASE(stdout_is_kept_up_to_64_KiB_and_the_cut_is_marked_and_logged, CliFixture) {
  write_config(handler_toml("big", write_script("big.sh", "head -c 100000 /dev/zero | tr '\\0' a\n")));
  enqueue("default", "big");
  auto r = worker({"--max-tasks", "1"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status FROM tasks") == "succeeded");
  // The first 64 KiB, then a line that says where it was cut; the log says so too.
  auto result = sql_text("SELECT result FROM tasks");
  BOOST_TEST(result.substr(0, 65536) == std::string(65536, 'a'));
  BOOST_TEST(result.substr(65536) == "\n[oos: output cut at 65536 of 100000 bytes]");
  BOOST_TEST(r.err.find("printed 100000 bytes; its result keeps the first 65536") != std::string::npos, r.err);
}

BOOST_FIXTURE_TEST_CASE(a_large_payload_reaches_a_handler_that_reads_it_and_one_that_does_not, CliFixture) {
  write_config(handler_toml("count", write_script("count.sh", "wc -c\n")) +
               handler_toml("ignore", write_script("ignore.sh", "echo ignored\n")));
  auto payload = "\"" + std::string(300'000, 'p') + "\"";
  oos::test::write_file(dir() / "payload.json", payload);
  enqueue("default", "count", {"--data", "@" + (dir() / "payload.json").string()});
  enqueue("default", "ignore", {"--data", "@" + (dir() / "payload.json").string()});
  auto r = worker({"--max-tasks", "2"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status || '/' || result FROM tasks WHERE id = 1") ==
             "succeeded/" + std::to_string(payload.size()) + "\n");
  BOOST_TEST(sql_text("SELECT status || '/' || result FROM tasks WHERE id = 2") == "succeeded/ignored\n");
}

BOOST_FIXTURE_TEST_CASE(tasks_run_by_priority_then_in_order, CliFixture) {
  auto order = dir() / "order";
  write_config(handler_toml("log", write_script("log.sh", "echo $OOS_TASK_ID >> '" + order.string() + "'\n")));
  enqueue("default", "log");
  enqueue("default", "log", {"--priority", "5"});
  enqueue("default", "log");
  auto r = worker({"--drain"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(read_file(order) == "2\n1\n3\n");
}

BOOST_FIXTURE_TEST_CASE(a_paused_queue_is_not_served, CliFixture) {
  write_config(handler_toml("noop", "/bin/true"));
  enqueue("default", "noop");
  BOOST_TEST_REQUIRE(queue({"pause", "default"}).exit_code == 0);
  auto r = worker({"--drain"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status || '/' || attempts FROM tasks") == "pending/0");
  BOOST_TEST_REQUIRE(queue({"resume", "default"}).exit_code == 0);
  r = worker({"--drain"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status || '/' || attempts FROM tasks") == "succeeded/1");
}

BOOST_FIXTURE_TEST_CASE(exit_75_is_a_temporary_failure_the_breaker_does_not_count, CliFixture) {
  write_config(handler_toml("later", write_script("later.sh", "echo 'try later' >&2; exit 75\n")));
  enqueue("default", "later");
  auto r = worker({"--max-tasks", "1"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status FROM tasks") == "pending");
  BOOST_TEST(sql_int("SELECT attempts FROM tasks") == 1);
  BOOST_TEST(sql_text("SELECT last_error FROM tasks") == "exit 75: try later");
  BOOST_TEST(sql_text("SELECT outcome || '/' || exit_code FROM task_attempts") == "temporary/75");
  BOOST_TEST(sql_int(breaker_failures_sql("default")) == 0);
}

BOOST_FIXTURE_TEST_CASE(a_permanent_exit_code_dead_letters_at_once, CliFixture) {
  write_config(handler_toml("strict", write_script("strict.sh", "echo 'bad payload field' >&2; exit 65\n"),
                            "permanent_exit_codes = [65]"));
  enqueue("default", "strict");
  auto r = worker({"--max-tasks", "1"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status FROM tasks") == "dead");
  BOOST_TEST(sql_int("SELECT attempts FROM tasks") == 1);
  auto error = sql_text("SELECT last_error FROM tasks");
  BOOST_TEST(error.starts_with("exit 65"), error);
  BOOST_TEST(error.find("bad payload field") != std::string::npos, error);
  BOOST_TEST(sql_text("SELECT outcome || '/' || exit_code FROM task_attempts") == "permanent/65");
}

// The reliability issue's handler: it leaves a daemon outside its process group holding its output. The task
// succeeds when the handler exits, the daemon is killed and the log says so.
BOOST_FIXTURE_TEST_CASE(a_daemon_left_holding_the_output_is_killed_and_reported, CliFixture) {
  write_config(
      handler_toml("daemon", write_script("daemon.sh",
                                          "p=\"$0.pid\"; setsid sh -c 'echo $$ > \"$1\"; exec sleep 5' sh \"$p\" &\n"
                                          "while [ ! -s \"$p\" ]; do sleep 0.01; done; echo ok\n")));
  enqueue("default", "daemon");
  auto r = worker({"--max-tasks", "1"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status || '/' || result FROM tasks") == "succeeded/ok\n");
  BOOST_TEST(r.err.find("left 1 process(es) outside its process group holding its output open; they were killed") !=
                 std::string::npos,
             r.err);
  auto took = logged_seconds(r.err, "started (type", "succeeded in");
  BOOST_TEST((took >= 0 && took < 1.0), took);
}

BOOST_FIXTURE_TEST_CASE(another_exit_code_is_retried_with_the_stderr_tail_as_the_error, CliFixture) {
  write_config(handler_toml("flaky",
                            write_script("flaky.sh", "echo 'first line' >&2; echo 'disk on fire' >&2; exit 3\n"),
                            "permanent_exit_codes = [65]"));
  enqueue("default", "flaky");
  auto before = now_ms();
  auto r = worker({"--max-tasks", "1"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status FROM tasks") == "pending");
  BOOST_TEST(sql_int("SELECT attempts FROM tasks") == 1);
  BOOST_TEST(sql_int("SELECT run_at FROM tasks") > before);  // after a backoff
  BOOST_TEST(sql_text("SELECT last_error FROM tasks") == "exit 3: first line\ndisk on fire");
  BOOST_TEST(sql_text("SELECT outcome || '/' || exit_code FROM task_attempts") == "failed/3");
  BOOST_TEST(sql_int(breaker_failures_sql("default")) == 1);
}

BOOST_FIXTURE_TEST_CASE(only_the_last_4_KiB_of_stderr_are_kept, CliFixture) {
  write_config(handler_toml(
      "noisy", write_script("noisy.sh", "head -c 10000 /dev/zero | tr '\\0' x >&2; echo 'the end' >&2; exit 1\n")));
  enqueue("default", "noisy");
  auto r = worker({"--max-tasks", "1"});
  BOOST_TEST(r.exit_code == 0, r.err);
  auto error = sql_text("SELECT last_error FROM tasks");
  BOOST_TEST(error.starts_with("exit 1: xxx"), error.substr(0, 40));
  BOOST_TEST(error.ends_with("xxxthe end"), error.substr(error.size() - std::min<std::size_t>(error.size(), 40)));
  BOOST_TEST(error.size() <= 4096 + std::string("exit 1: ").size());
  BOOST_TEST(error.size() >= 4000);
}

BOOST_FIXTURE_TEST_CASE(a_handler_killed_by_a_signal_is_retried, CliFixture) {
  write_config(handler_toml("doomed", write_script("doomed.sh", "echo 'about to die' >&2; kill -9 $$\n")));
  enqueue("default", "doomed");
  auto r = worker({"--max-tasks", "1"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status FROM tasks") == "pending");
  BOOST_TEST(sql_int("SELECT attempts FROM tasks") == 1);
  auto error = sql_text("SELECT last_error FROM tasks");
  BOOST_TEST(error.find("signal 9") != std::string::npos, error);
  BOOST_TEST(error.find("about to die") != std::string::npos, error);
  BOOST_TEST(sql_text("SELECT outcome FROM task_attempts") == "failed");
  BOOST_TEST(sql_int("SELECT exit_code IS NULL FROM task_attempts") == 1);
}

BOOST_FIXTURE_TEST_CASE(a_handler_that_cannot_start_is_retried, CliFixture) {
  write_config(handler_toml("ghost", dir() / "no-such-program"));
  enqueue("default", "ghost");
  auto r = worker({"--max-tasks", "1"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status || '/' || attempts FROM tasks") == "pending/1");
  auto error = sql_text("SELECT last_error FROM tasks");
  BOOST_TEST(error.starts_with("handler 'ghost': "), error);
  BOOST_TEST(error.find((dir() / "no-such-program").string()) != std::string::npos, error);
}

BOOST_FIXTURE_TEST_CASE(a_task_that_keeps_failing_is_dead_after_its_max_attempts, CliFixture) {
  write_config(handler_toml(
      "broken", write_script("broken.sh", "echo \"attempt $OOS_ATTEMPT of $OOS_MAX_ATTEMPTS\" >&2; exit 1\n")));
  enqueue("default", "broken", {"--max-attempts", "2"});
  auto r = worker({"--drain"});  // waits for the retry after 1s
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status || '/' || attempts || '/' || last_error FROM tasks") ==
             "dead/2/exit 1: attempt 2 of 2");
  BOOST_TEST(
      sql_text("SELECT group_concat(outcome, ',') FROM (SELECT outcome FROM task_attempts ORDER BY attempt) AS a") ==
      "failed,failed");
}

BOOST_FIXTURE_TEST_CASE(a_type_without_a_handler_is_dead_lettered, CliFixture) {
  write_config(handler_toml("known", "/bin/true"));
  enqueue("default", "unknown");
  auto r = worker({"--max-tasks", "1"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status FROM tasks") == "dead");
  BOOST_TEST(sql_text("SELECT last_error FROM tasks") == "no handler for type 'unknown'");
  BOOST_TEST(sql_text("SELECT outcome FROM task_attempts") == "permanent");
}

BOOST_FIXTURE_TEST_CASE(drain_waits_for_a_retry_that_is_due_soon, CliFixture) {
  write_config(handler_toml("second", write_script("second.sh", "[ \"$OOS_ATTEMPT\" = 2 ] || exit 1\necho ok\n")));
  enqueue("default", "second");
  auto r = worker({"--drain"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status || '/' || attempts FROM tasks") == "succeeded/2");
  BOOST_TEST(
      sql_text("SELECT group_concat(outcome, ',') FROM (SELECT outcome FROM task_attempts ORDER BY attempt) AS a") ==
      "failed,succeeded");
}

BOOST_FIXTURE_TEST_CASE(a_handler_gets_a_built_environment_and_nothing_else, CliFixture) {
  auto dump = dir() / "env.txt";
  write_config(
      handler_toml("envdump", write_script("envdump.sh", "env > '" + dump.string() + "'\n"),
                   "env_keys = [\"GITHUB_PAT\"]\npass_env = [\"TZ\", \"PASSED_VAR\"]\nenv = { FIXED = \"v\" }"));
  auto id = enqueue("jobs", "envdump", {"--max-attempts", "3"});
  auto r = worker(
      {"--queue", "jobs", "--max-tasks", "1"},
      {"UNRELATED_VAR=leak", std::string("GITHUB_PAT=") + k_pat, std::string("CONTEXT7_API_KEY=") + k_other_secret,
       "LC_ALL=C.UTF-8", "TZ=UTC", "PASSED_VAR=passed", "LANG=C.UTF-8"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST_REQUIRE(sql_text("SELECT status FROM tasks") == "succeeded");
  auto env = parse_env(read_file(dump));
  BOOST_TEST(env["OOS_TASK_ID"] == std::to_string(id));
  BOOST_TEST(env["OOS_TASK_TYPE"] == "envdump");
  BOOST_TEST(env["OOS_QUEUE"] == "jobs");
  BOOST_TEST(env["OOS_ATTEMPT"] == "1");
  BOOST_TEST(env["OOS_MAX_ATTEMPTS"] == "3");
  BOOST_TEST(!env["PATH"].empty());
  BOOST_TEST(env["GITHUB_PAT"] == k_pat);
  BOOST_TEST(env["TZ"] == "UTC");
  BOOST_TEST(env["LC_ALL"] == "C.UTF-8");
  BOOST_TEST(env["LANG"] == "C.UTF-8");
  BOOST_TEST(env["PASSED_VAR"] == "passed");
  BOOST_TEST(env["FIXED"] == "v");
  BOOST_TEST(env.count("CONTEXT7_API_KEY") == 0u);
  BOOST_TEST(env.count("UNRELATED_VAR") == 0u);
  BOOST_TEST(env.count("OOS_WORKER_BIN") == 0u);  // nothing else of the worker's environment
  const std::set<std::string> allowed{"PATH",       "HOME",        "TZ",
                                      "LANG",       "OOS_TASK_ID", "OOS_TASK_TYPE",
                                      "OOS_QUEUE",  "OOS_ATTEMPT", "OOS_MAX_ATTEMPTS",
                                      "PASSED_VAR", "FIXED",       "GITHUB_PAT",
                                      "PWD"};  // PWD: set by the shell itself
  for (const auto& [name, value] : env)
    BOOST_TEST((allowed.contains(name) || name.starts_with("LC_")), "unexpected variable " << name);
}

BOOST_FIXTURE_TEST_CASE(secrets_a_handler_prints_are_redacted_in_the_result_the_error_and_the_logs, CliFixture) {
  write_config(
      handler_toml("leaky", write_script("leaky.sh", "echo \"token=$GITHUB_PAT\"\n"), "env_keys = [\"GITHUB_PAT\"]") +
      handler_toml("leaky_fail", write_script("leaky_fail.sh", "echo \"auth failed for $GITHUB_PAT\" >&2; exit 1\n"),
                   "env_keys = [\"GITHUB_PAT\"]"));
  auto ok = enqueue("default", "leaky");
  auto failed = enqueue("default", "leaky_fail");
  auto r = worker({"--max-tasks", "2"}, {std::string("GITHUB_PAT=") + k_pat});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status || ' ' || result FROM tasks WHERE id = " + std::to_string(ok)) ==
             "succeeded token=[redacted]\n");
  BOOST_TEST(sql_text("SELECT status || ' ' || last_error FROM tasks WHERE id = " + std::to_string(failed)) ==
             "pending exit 1: auth failed for [redacted]");
  BOOST_TEST(sql_text("SELECT error FROM task_attempts WHERE task_id = " + std::to_string(failed)) ==
             "exit 1: auth failed for [redacted]");
  BOOST_TEST(state_bytes(*this).find(k_pat) == std::string::npos);
  BOOST_TEST(r.err.find(k_pat) == std::string::npos, r.err);
  BOOST_TEST(r.err.find("[redacted]") != std::string::npos, r.err);  // the failure was logged, scrubbed
}

BOOST_FIXTURE_TEST_CASE(a_missing_secret_fails_the_task_without_running_the_handler, CliFixture) {
  auto ran = dir() / "ran";
  write_config(handler_toml("needy", write_script("needy.sh", "touch '" + ran.string() + "'\n"),
                            "env_keys = [\"GITHUB_PAT\", \"OOS_TEST_MISSING_SECRET\"]"));
  enqueue("default", "needy");
  auto r = worker({"--max-tasks", "1"}, {std::string("GITHUB_PAT=") + k_pat});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status || '/' || attempts FROM tasks") == "pending/1");
  BOOST_TEST(sql_text("SELECT last_error FROM tasks") ==
             "handler 'needy': secret 'OOS_TEST_MISSING_SECRET' named in env_keys is not set");
  BOOST_TEST(!std::filesystem::exists(ran));
  BOOST_TEST(r.err.find("OOS_TEST_MISSING_SECRET") != std::string::npos, r.err);  // logged as an error
  BOOST_TEST(r.err.find(k_pat) == std::string::npos, r.err);
  BOOST_TEST(state_bytes(*this).find(k_pat) == std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(secrets_come_from_the_credentials_directory_before_the_environment, CliFixture) {
  auto credentials = dir() / "credentials";
  std::filesystem::create_directory(credentials);
  oos::test::write_file(credentials / "GITHUB_PAT", "test-credential-value-0003\n");
  auto seen = dir() / "seen";
  write_config(handler_toml("cred", write_script("cred.sh", "printf %s \"$GITHUB_PAT\" > '" + seen.string() + "'\n"),
                            "env_keys = [\"GITHUB_PAT\"]"));
  enqueue("default", "cred");
  auto r = worker({"--max-tasks", "1"},
                  {"CREDENTIALS_DIRECTORY=" + credentials.string(), std::string("GITHUB_PAT=") + k_pat});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status FROM tasks") == "succeeded");
  BOOST_TEST(read_file(seen) == "test-credential-value-0003");
}

BOOST_FIXTURE_TEST_CASE(a_timeout_kills_the_handlers_whole_process_group, CliFixture) {
  auto grandchild = dir() / "grandchild.pid";
  KillAtExit cleanup(grandchild, KillAtExit::Target::process);
  write_config(handler_toml("slow",
                            write_script("slow.sh", "sleep 300 &\necho $! > '" + grandchild.string() + "'\nwait\n"),
                            "timeout = \"1s\""));
  enqueue("default", "slow");
  auto start = std::chrono::steady_clock::now();
  auto r = worker({"--max-tasks", "1"});
  auto took = seconds_since(start);
  BOOST_TEST(r.exit_code == 0, r.err);
  // SIGTERM was enough: no kill grace needed (1s timeout, 5s kill grace). The handler's run on the worker's
  // clock, and the whole run of the worker, which includes its start and exit, as a deadline.
  auto ran = logged_seconds(r.err, "task 1: started", "task 1: failed");
  BOOST_TEST(ran >= 0.0, r.err);
  BOOST_TEST(ran < 5.0, ran);
  BOOST_TEST(took < seconds(scaled(5s)), took);
  BOOST_TEST(sql_text("SELECT status || '/' || attempts FROM tasks") == "pending/1");
  auto error = sql_text("SELECT last_error FROM tasks");
  BOOST_TEST(error.starts_with("timed out after 1s"), error);
  auto pid = read_pid(grandchild);
  BOOST_TEST_REQUIRE(pid.has_value());
  BOOST_TEST(eventually([&] { return !process_alive(*pid); }, scaled(1s)),
             "the handler's child " << *pid << " survived");
}

BOOST_FIXTURE_TEST_CASE(a_handler_that_ignores_sigterm_is_killed_after_the_kill_grace, CliFixture) {
  auto grandchild = dir() / "grandchild.pid";
  KillAtExit cleanup(grandchild, KillAtExit::Target::process);
  write_config(handler_toml(
      "stubborn",
      write_script("stubborn.sh", "trap '' TERM\nsleep 300 &\necho $! > '" + grandchild.string() + "'\nwait\n"),
      "timeout = \"1s\""));
  enqueue("default", "stubborn");
  auto start = std::chrono::steady_clock::now();
  auto r = worker({"--max-tasks", "1"});
  auto took = seconds_since(start);
  BOOST_TEST(r.exit_code == 0, r.err);
  // 1s timeout, then 5s for the SIGTERM to work, then SIGKILL: the handler's run on the worker's clock, and
  // the whole run of the worker, which includes its start and exit, as a deadline.
  auto ran = logged_seconds(r.err, "task 1: started", "task 1: failed");
  BOOST_TEST(ran >= 5.5, ran << "\n" << r.err);
  BOOST_TEST(ran < 10.0, ran);
  BOOST_TEST(took < seconds(scaled(10s)), took);
  BOOST_TEST(sql_text("SELECT status || '/' || attempts FROM tasks") == "pending/1");
  auto error = sql_text("SELECT last_error FROM tasks");
  BOOST_TEST(error.starts_with("timed out after 1s"), error);
  auto pid = read_pid(grandchild);
  BOOST_TEST_REQUIRE(pid.has_value());
  BOOST_TEST(eventually([&] { return !process_alive(*pid); }, scaled(1s)),
             "the handler's child " << *pid << " survived");
}

BOOST_FIXTURE_TEST_CASE(max_tasks_stops_after_that_many_tasks, CliFixture) {
  write_config(handler_toml("noop", "/bin/true"));
  for (int i = 0; i < 5; ++i) enqueue("default", "noop");
  auto r = worker({"--max-tasks", "2"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'succeeded'") == 2);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'pending' AND attempts = 0") == 3);
}

BOOST_FIXTURE_TEST_CASE(drain_exits_at_once_when_nothing_is_runnable, CliFixture) {
  // At once: not after the 10s drain horizon, nor after a poll interval (made long). The worker's loop on its
  // own clock, and its whole run, which includes its start (creating the database) and exit, as a deadline.
  write_config("[worker]\npoll_interval = \"1m\"\n\n" + handler_toml("noop", "/bin/true"));
  auto start = std::chrono::steady_clock::now();
  auto r = worker({"--drain"});
  auto took = seconds_since(start);
  BOOST_TEST(r.exit_code == 0, r.err);
  auto looped = logged_seconds(r.err, "' started on", "' stopped:");
  BOOST_TEST((looped >= 0.0 && looped < 2.0), looped << "\n" << r.err);
  BOOST_TEST(took < seconds(scaled(2s)), took);
  BOOST_TEST(r.err.find("error") == std::string::npos, r.err);
  enqueue("default", "noop", {"--delay", "1h"});  // not runnable for long: not waited for
  start = std::chrono::steady_clock::now();
  r = worker({"--drain"});
  took = seconds_since(start);
  BOOST_TEST(r.exit_code == 0, r.err);
  looped = logged_seconds(r.err, "' started on", "' stopped:");
  BOOST_TEST((looped >= 0.0 && looped < 2.0), looped << "\n" << r.err);
  BOOST_TEST(took < seconds(scaled(2s)), took);
  BOOST_TEST(sql_text("SELECT status || '/' || attempts FROM tasks") == "pending/0");
}

BOOST_FIXTURE_TEST_CASE(queue_option_takes_tasks_of_that_queue_only, CliFixture) {
  write_config(handler_toml("noop", "/bin/true"));
  auto mine = enqueue("other", "noop");
  auto theirs = enqueue("default", "noop");
  auto r = worker({"--queue", "other", "--drain"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = " + std::to_string(mine)) == "succeeded");
  BOOST_TEST(sql_text("SELECT status || '/' || attempts FROM tasks WHERE id = " + std::to_string(theirs)) ==
             "pending/0");
}

BOOST_FIXTURE_TEST_CASE(usage_errors_exit_64_with_one_line, CliFixture) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--max-tasks", "0"}, {"--queue", "a b"}, {"--max-tasks", "many"}, {"--no-such-flag"}}) {
    auto r = worker(args);
    BOOST_TEST(r.exit_code == 64, args.front() << ": " << r.err);
    BOOST_TEST(is_one_error_line(r.err, "oos-worker"), r.err);
  }
  BOOST_TEST(worker({"--max-tasks", "0"}).err.find("--max-tasks") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(consecutive_failures_open_the_breaker_and_claims_stop, CliFixture) {
  write_config("[breaker]\nfailure_threshold = 2\n\n" + handler_toml("fail", "/bin/false"));
  for (int i = 0; i < 3; ++i) enqueue("default", "fail", {"--max-attempts", "1"});
  auto r = worker({"--drain"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'dead'") == 2);
  BOOST_TEST(sql_text("SELECT status || '/' || attempts FROM tasks WHERE id = 3") == "pending/0");
  BOOST_TEST(sql_text("SELECT state FROM breakers WHERE kind = 'queue' AND name = 'default'") == "open");
}

BOOST_AUTO_TEST_SUITE_END()
