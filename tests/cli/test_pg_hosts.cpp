// Many hosts, one queue (docs/reference.md section 19): oos-queue, oos-worker and oos-api of two simulated hosts (two
// state directories) pointed at one PostgreSQL schema by OOS_DATABASE_URL, against the throwaway cluster of
// support/pg_cluster. The kill storm (pg_support.hpp) SIGKILLs a random worker every 750 ms while a producer enqueues;
// cli.pg_bouncer runs it again through a PgBouncer.
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/api_support.hpp"
#include "pg_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace oos::test {

BOOST_AUTO_TEST_SUITE(pg_hosts)

BOOST_FIXTURE_TEST_CASE(a_task_enqueued_on_one_host_is_run_by_a_worker_of_the_other, PgHosts) {
  auto ran = dir() / "ran";
  write_config(handler_toml("note", write_script("note.sh", "cat >> " + ran.string() + "\n")));
  auto enqueued = queue({"enqueue", "default", "note", "--data", R"({"n":1})"});
  BOOST_TEST_REQUIRE(enqueued.exit_code == 0, enqueued.err);
  BOOST_TEST(!fs::exists(db_path()), "with OOS_DATABASE_URL set, no SQLite file is created");

  auto status = queue_at(host_b, {"status", "--json"});
  BOOST_TEST_REQUIRE(status.exit_code == 0, status.err);
  auto before = json::parse(status.out)["queues"][0];
  BOOST_TEST(before["name"] == "default");
  BOOST_TEST(before["pending"] == 1, status.out);

  auto worked = run(tool_argv("OOS_WORKER_BIN", host_b, {"--drain", "--name", "host-b:1"}));
  BOOST_TEST_REQUIRE(worked.exit_code == 0, worked.err);
  BOOST_TEST(read_file(ran) == R"({"n":1})");
  auto shown = queue({"show", enqueued.out.substr(0, enqueued.out.find('\n')), "--json"});
  BOOST_TEST_REQUIRE(shown.exit_code == 0, shown.err);
  auto task = json::parse(shown.out);
  BOOST_TEST(task["status"] == "succeeded", shown.out);
  BOOST_TEST(task["attempt_history"][0]["worker"] == "host-b:1", shown.out);
}

// Two oos-api processes of two hosts on one database: each answers what the other wrote, and an Idempotency-Key
// holds across them.
BOOST_FIXTURE_TEST_CASE(two_apis_of_two_hosts_see_each_others_writes, PgHosts) {
  const std::vector<std::string> env = test_environment({"OOS_API_TOKEN=admin-token-123456"});
  BackgroundProcess api_a(tool_argv("OOS_API_BIN", state_dir(), {"--listen", "127.0.0.1:0"}), env);
  BackgroundProcess api_b(tool_argv("OOS_API_BIN", host_b, {"--listen", "127.0.0.1:0"}), env);
  auto a = listening_base(api_a);
  auto b = listening_base(api_b);

  auto posted = http("POST", a + "/api/v1/queue/mail/tasks", R"({"type":"send","data":{"n":1}})",
                     {k_admin, "Idempotency-Key: order-7"});
  BOOST_TEST_REQUIRE(posted.status == 201, posted.body);
  auto shown = http("GET", b + "/api/v1/tasks/1", "", {k_admin});
  BOOST_TEST(shown.status == 200, shown.body);
  BOOST_TEST(json::parse(shown.body)["payload"] == json::parse(R"({"n":1})"), shown.body);
  BOOST_TEST(shown.body == http("GET", a + "/api/v1/tasks/1", "", {k_admin}).body);
  auto again =
      http("POST", b + "/api/v1/queue/mail/tasks", R"({"type":"send"})", {k_admin, "Idempotency-Key: order-7"});
  BOOST_TEST(again.status == 200, again.body);
  BOOST_TEST(json::parse(again.body)["id"] == 1, again.body);

  BOOST_TEST(http("POST", b + "/api/v1/queue/mail/pause", "", {k_admin}).status == 200);
  auto status = json::parse(http("GET", a + "/api/v1/queue/status", "", {k_admin}).body);
  BOOST_TEST(status["queues"][0]["paused"] == true, status.dump());
  BOOST_TEST(pg_int("SELECT count(*) FROM events WHERE kind = 'api.write'") == 3);
  BOOST_TEST(!fs::exists(db_path()), "with OOS_DATABASE_URL set, oos-api creates no SQLite file");
  BOOST_TEST(!fs::exists(host_b / "oos.db"));
}

BOOST_FIXTURE_TEST_CASE(a_url_with_a_password_is_refused_with_78_and_not_echoed, PgHosts) {
  ::setenv("OOS_DATABASE_URL", "postgresql://oos:hunter2hunter2@db.example/oos", 1);
  auto r = queue({"status"});
  BOOST_TEST(r.exit_code == 78, r.err);
  BOOST_TEST(r.err.find("OOS_DATABASE_PASSWORD") != std::string::npos, r.err);
  BOOST_TEST(r.err.find("hunter2") == std::string::npos, r.err);
}

// The kill storm of run_kill_storm (pg_support.hpp) at full size: 2000 tasks in 20 batches, 15 s of kills.
BOOST_FIXTURE_TEST_CASE(a_kill_storm_across_two_hosts_loses_no_task_and_completes_none_twice, PgHosts) {
  run_kill_storm(*this, KillStorm{});
}

// pg_ctl stop -m fast under two busy workers, 3 s away, then started again: the workers stay up (no exit, so no
// restart loop) and finish every task, each succeeded once; a command run while the server is away exits 75.
BOOST_FIXTURE_TEST_CASE(workers_ride_out_a_server_restart_and_commands_exit_75_while_it_is_away, PgHosts) {
  constexpr int k_tasks = 300;
  auto ran = dir() / "ran";
  write_config("[queue]\nlease = \"10s\"\nbackoff = [0]\n[worker]\npoll_interval = \"100ms\"\n" +
               handler_toml("append", write_script("append.sh", "sleep 0.02\necho \"$OOS_TASK_ID $OOS_ATTEMPT\" >> " +
                                                                    ran.string() + "\n")));
  std::string lines;
  for (int n = 0; n < k_tasks; ++n)
    lines += R"({"type":"append"})"
             "\n";
  BOOST_TEST_REQUIRE(queue({"enqueue", "default", "--batch"}, lines).exit_code == 0);
  std::vector<std::unique_ptr<BackgroundProcess>> workers;
  for (const auto& [host, name] : {std::pair{state_dir(), "host-a:1"}, std::pair{host_b, "host-b:1"}})
    workers.push_back(
        std::make_unique<BackgroundProcess>(tool_argv("OOS_WORKER_BIN", host, {"--name", name}), test_environment({})));
  auto until = std::chrono::steady_clock::now() + scaled(std::chrono::seconds(30));
  while (pg_int("SELECT count(*) FROM tasks WHERE status = 'succeeded'") < k_tasks / 5 &&
         std::chrono::steady_clock::now() < until)
    for (auto& w : workers) w->pump(50);

  auto& cluster = PgCluster::instance();
  cluster.stop_server();
  auto away = queue({"status"});
  BOOST_TEST(away.exit_code == 75, away.err);
  BOOST_TEST(away.err.find("oos-queue: error: cannot connect to PostgreSQL at ") == 0, away.err);
  BOOST_TEST(std::count(away.err.begin(), away.err.end(), '\n') == 1, away.err);
  for (auto stop = std::chrono::steady_clock::now() + std::chrono::seconds(3); std::chrono::steady_clock::now() < stop;)
    for (auto& w : workers) BOOST_TEST_REQUIRE(!w->pump(50), "a worker exited while the server was away: " << w->err());
  cluster.start_server();

  until = std::chrono::steady_clock::now() + scaled(std::chrono::seconds(60));
  long long done = 0;
  while ((done = pg_int("SELECT count(*) FROM tasks WHERE status = 'succeeded'")) < k_tasks &&
         std::chrono::steady_clock::now() < until)
    for (auto& w : workers) w->pump(50);
  for (auto& w : workers) w->signal(SIGTERM);
  for (auto& w : workers) {
    int code = w->wait(std::chrono::seconds(20));
    BOOST_TEST(code == 0, "worker exit " << code << ": " << w->err());
    BOOST_TEST(w->err().find("the worker tries again") != std::string::npos, "no retry logged: " << w->err());
  }
  BOOST_TEST(done == k_tasks);
  BOOST_TEST(pg_int("SELECT count(*) FROM task_attempts WHERE outcome = 'succeeded'") == k_tasks);
  BOOST_TEST(runs_in(ran).size() == static_cast<std::size_t>(k_tasks));
}

// PostgreSQL's text holds no NUL byte and only valid UTF-8, where SQLite keeps a handler's output as it was printed
// (cli.misbehaving_handlers): here each such byte is stored as U+FFFD (as show --json prints it on SQLite) and the
// worker goes on. Before, the result was cut at the NUL, and a byte that is not UTF-8 ended the worker with 70.
BOOST_FIXTURE_TEST_CASE(handler_output_that_is_not_utf8_is_stored_with_u_fffd_and_the_worker_goes_on, PgHosts) {
  write_config(handler_toml("binary", write_script("binary.sh", "printf 'a\\000b\\377\\376c\\033[31m\\300\\n'\n")) +
               handler_toml("bad", write_script("bad.sh", "printf 'bad\\377 input' >&2\nexit 65\n"),
                            "permanent_exit_codes = [65]"));
  const auto binary = std::to_string(enqueue("default", "binary"));
  const auto bad = std::to_string(enqueue("default", "bad"));
  auto worked = worker({"--drain"});
  BOOST_TEST(worked.exit_code == 0, worked.err);
  const std::string fffd = "\xEF\xBF\xBD";
  const std::string result = "a" + fffd + "b" + fffd + fffd + "c\x1b[31m" + fffd + "\n";
  BOOST_TEST(pg_text("SELECT status || '/' || result FROM tasks WHERE id = " + binary) == "succeeded/" + result);
  BOOST_TEST(pg_text("SELECT status || '/' || last_error FROM tasks WHERE id = " + bad) ==
             "dead/exit 65: bad" + fffd + " input");
  BOOST_TEST(pg_text("SELECT error FROM task_attempts WHERE task_id = " + bad) == "exit 65: bad" + fffd + " input");
  auto shown = queue({"show", binary, "--json"});
  BOOST_TEST_REQUIRE(shown.exit_code == 0, shown.err);
  BOOST_TEST(json::parse(shown.out)["result"] == result);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace oos::test
