// oos-worker's heartbeat row in `workers` (written while it runs, deleted on a clean exit, left behind by a
// killed worker) and its answer to SIGUSR1 (release memory, log the RSS before and after, go on working).
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <sstream>

#include "cli/cli_support.hpp"

using oos::test::BackgroundProcess;
using oos::test::CliFixture;
using oos::test::eventually;
using oos::test::handler_toml;
using oos::test::now_ms;
using oos::test::scaled;
using oos::test::wait_for_gate;
using oos::test::write_file;
using namespace std::chrono_literals;

namespace {

long long heartbeat_rows(CliFixture& f, const std::string& name) {
  return f.sql_int("SELECT count(*) FROM workers WHERE name = '" + name + "'");
}

// Waits until worker `name` has written its heartbeat row, pumping `worker`. Not before its start is logged:
// until then the database may not even have its tables.
bool has_heartbeat(CliFixture& f, BackgroundProcess& worker, const std::string& name) {
  return eventually([&] { return worker.err().find("started on") != std::string::npos; }, scaled(10s), {&worker}) &&
         eventually([&] { return heartbeat_rows(f, name) == 1; }, scaled(10s), {&worker});
}

// The JSON log records of `err` whose message contains `text`.
std::vector<nlohmann::json> records(const std::string& err, const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream lines(err);
  for (std::string line; std::getline(lines, line);) {
    auto record = nlohmann::json::parse(line, nullptr, false);
    if (record.is_object() && record.value("msg", "").find(text) != std::string::npos) out.push_back(record);
  }
  return out;
}

std::string host_name() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return host;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(heartbeat)

BOOST_FIXTURE_TEST_CASE(a_running_worker_has_a_heartbeat_row_that_goes_with_a_clean_stop, CliFixture) {
  auto before = now_ms();
  auto w = start_worker({"--name", "hb1"});
  BOOST_TEST_REQUIRE(has_heartbeat(*this, *w, "hb1"), w->err());
  BOOST_TEST(sql_int("SELECT pid FROM workers WHERE name = 'hb1'") == w->pid());
  BOOST_TEST(sql_text("SELECT host FROM workers WHERE name = 'hb1'") == host_name());
  BOOST_TEST(sql_text("SELECT status FROM workers WHERE name = 'hb1'").starts_with("idle on default"));
  BOOST_TEST(sql_int("SELECT tasks_run FROM workers WHERE name = 'hb1'") == 0);
  auto started = sql_int("SELECT started_at FROM workers WHERE name = 'hb1'");
  auto beat = sql_int("SELECT heartbeat_at FROM workers WHERE name = 'hb1'");
  BOOST_TEST(started >= before);
  BOOST_TEST(beat >= started);
  BOOST_TEST(beat <= now_ms());

  w->signal(SIGTERM);
  BOOST_TEST(w->wait(scaled(10s)) == 0, w->err());
  BOOST_TEST(heartbeat_rows(*this, "hb1") == 0);
}

BOOST_FIXTURE_TEST_CASE(a_draining_worker_leaves_no_row_behind, CliFixture) {
  write_config(handler_toml("job", "/bin/true"));
  enqueue("default", "job");
  auto r = worker({"--name", "hb2", "--drain"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status FROM tasks") == "succeeded");
  BOOST_TEST(sql_int("SELECT count(*) FROM workers") == 0);
}

BOOST_FIXTURE_TEST_CASE(a_killed_worker_leaves_its_row_with_the_last_heartbeat, CliFixture) {
  auto w = start_worker({"--name", "hb3"});
  BOOST_TEST_REQUIRE(has_heartbeat(*this, *w, "hb3"), w->err());
  w->signal(SIGKILL);
  BOOST_TEST(w->wait(scaled(5s)) == 128 + SIGKILL);
  // What oos-health will call stale once it is old enough.
  BOOST_TEST(heartbeat_rows(*this, "hb3") == 1);
  BOOST_TEST(sql_int("SELECT pid FROM workers WHERE name = 'hb3'") == w->pid());
}

BOOST_FIXTURE_TEST_CASE(sigusr1_makes_an_idle_worker_release_memory_and_go_on, CliFixture) {
  // A poll interval of a minute: the release must not wait for the next poll.
  write_config("[worker]\npoll_interval = \"60s\"\n");
  auto w = start_worker({"--name", "hb4"});
  BOOST_TEST_REQUIRE(has_heartbeat(*this, *w, "hb4"), w->err());
  w->signal(SIGUSR1);
  BOOST_TEST_REQUIRE(
      eventually([&] { return !records(w->err(), "released memory on request").empty(); }, scaled(5s), {w.get()}),
      w->err());
  auto released = records(w->err(), "released memory on request");
  BOOST_TEST(released.size() == 1u);  // one line per request
  const auto& line = released.front();
  BOOST_TEST(line.at("level").get<std::string>() == "info", line.dump());
  BOOST_TEST(line.at("worker").get<std::string>() == "hb4");
  BOOST_TEST(std::stoll(line.at("rss_before_bytes").get<std::string>()) > 0, line.dump());
  BOOST_TEST(std::stoll(line.at("rss_after_bytes").get<std::string>()) > 0, line.dump());
  BOOST_TEST(line.at("msg").get<std::string>().find(" MiB -> ") != std::string::npos, line.dump());

  // It goes on: still alive with its row, and its loop still answers a stop at once.
  BOOST_TEST(oos::test::process_alive(w->pid()));
  BOOST_TEST(heartbeat_rows(*this, "hb4") == 1);
  w->signal(SIGTERM);
  BOOST_TEST(w->wait(scaled(10s)) == 0, w->err());
  BOOST_TEST(heartbeat_rows(*this, "hb4") == 0);
}

BOOST_FIXTURE_TEST_CASE(sigusr1_while_a_handler_runs_releases_at_once_and_the_task_still_succeeds, CliFixture) {
  auto gate = dir() / "gate";
  write_config(handler_toml("slow", write_script("slow.sh", "touch '" + (dir() / "started").string() + "'\n" +
                                                                wait_for_gate(gate) + "echo done\n")));
  enqueue("default", "slow");
  auto w = start_worker({"--name", "hb5", "--max-tasks", "1"});
  BOOST_TEST_REQUIRE(eventually([&] { return std::filesystem::exists(dir() / "started"); }, scaled(10s), {w.get()}),
                     w->err());
  w->signal(SIGUSR1);
  BOOST_TEST(
      eventually([&] { return !records(w->err(), "released memory on request").empty(); }, scaled(5s), {w.get()}),
      w->err());
  write_file(gate, "");
  BOOST_TEST(w->wait(scaled(10s)) == 0, w->err());
  BOOST_TEST(sql_text("SELECT status || '/' || result FROM tasks") == "succeeded/done\n");
  BOOST_TEST(heartbeat_rows(*this, "hb5") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
