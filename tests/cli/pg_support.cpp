#include "pg_support.hpp"

#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <stdlib.h>

#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace oos::test {

namespace {

constexpr const char* k_lease = "3s";
constexpr int k_lease_ms = 3000;

// A random worker among those holding a running task's lease (worker "host-H:I" is index I), so that the kill lands
// on a run; any worker when none does. A worker killed before may still own its lost task: a kill may miss a run.
std::size_t pick_victim(PgTools& hosts, std::size_t workers, std::mt19937& random) {
  std::vector<std::size_t> busy;
  auto c = hosts.connect();
  const auto owners = c.exec_params("SELECT DISTINCT lease_owner FROM tasks WHERE status = 'running'");
  for (int row = 0; row < owners.rows(); ++row) {
    const std::string name(owners.text(row, 0));
    const std::size_t index = std::stoul(name.substr(name.find(':') + 1));
    if (index < workers) busy.push_back(index);
  }
  if (busy.empty()) return std::uniform_int_distribution<std::size_t>(0, workers - 1)(random);
  return busy[std::uniform_int_distribution<std::size_t>(0, busy.size() - 1)(random)];
}

}  // namespace

std::map<long long, int> runs_in(const fs::path& file) {
  std::map<long long, int> runs;
  std::istringstream lines(read_file(file));
  for (long long id = 0, attempt = 0; lines >> id >> attempt;) ++runs[id];
  return runs;
}

PgTools::PgTools(std::string tools_url, std::string checks) : url(std::move(tools_url)), m_checks(std::move(checks)) {
  ::setenv("OOS_DATABASE_URL", url.c_str(), 1);
}

PgTools::~PgTools() {
  ::unsetenv("OOS_DATABASE_URL");
}

long long PgTools::pg_int(const std::string& sql) {
  auto c = connect();
  return std::stoll(std::string(c.exec_params(sql).text(0, 0)));
}

std::string PgTools::pg_text(const std::string& sql) {
  auto c = connect();
  return std::string(c.exec_params(sql).text(0, 0));
}

PgHosts::PgHosts() : PgTools(schema.url(), schema.conninfo()) {}

void run_kill_storm(PgTools& hosts, const KillStorm& storm) {
  auto ran = hosts.dir() / "ran";
  // The lease is short so that a killed worker's task is rescued within the test; the handler records its run
  // only at its end, as a handler's side effect would be.
  hosts.write_config(
      std::string("[queue]\nlease = \"") + k_lease + "\"\nbackoff = [0]\nmax_attempts = 25\n" +
      "[worker]\npoll_interval = \"100ms\"\n" + storm.db_table +
      handler_toml("append", hosts.write_script("append.sh", "sleep 0.05\necho \"$OOS_TASK_ID $OOS_ATTEMPT\" >> " +
                                                                 ran.string() + "\n")));
  std::vector<fs::path> state_dirs{hosts.state_dir(), hosts.host_b};
  std::vector<std::unique_ptr<BackgroundProcess>> workers(6);
  auto start = [&](std::size_t i) {
    workers[i] = std::make_unique<BackgroundProcess>(
        hosts.tool_argv("OOS_WORKER_BIN", state_dirs[i / 3],
                        {"--name", "host-" + std::to_string(i / 3) + ":" + std::to_string(i)}),
        test_environment({}));
  };
  for (std::size_t i = 0; i < workers.size(); ++i) start(i);

  std::mt19937 random(std::random_device{}());
  int kills = 0;
  auto began = std::chrono::steady_clock::now();
  for (int batch = 0; batch < storm.batches || std::chrono::steady_clock::now() - began < storm.storm; ++batch) {
    if (batch < storm.batches) {
      std::string lines;
      for (int n = 0; n < storm.tasks / storm.batches; ++n)
        lines += R"({"type":"append"})"
                 "\n";
      auto enqueued =
          hosts.queue_at(state_dirs[static_cast<std::size_t>(batch % 2)], {"enqueue", "default", "--batch"}, lines);
      BOOST_TEST_REQUIRE(enqueued.exit_code == 0, enqueued.err);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(750));
    auto victim = pick_victim(hosts, workers.size(), random);
    workers[victim]->signal(SIGKILL);
    workers[victim]->wait(std::chrono::seconds(5));
    ++kills;
    start(victim);
    for (auto& w : workers) w->pump();
  }
  // Every task done within the leases of the last killed runs and a margin.
  const long long tasks = storm.tasks / storm.batches * storm.batches;
  auto deadline = std::chrono::steady_clock::now() + scaled(std::chrono::seconds(60));
  long long done = 0;
  while ((done = hosts.pg_int("SELECT count(*) FROM tasks WHERE status = 'succeeded'")) < tasks &&
         std::chrono::steady_clock::now() < deadline) {
    for (auto& w : workers) w->pump(50);
  }
  // A worker started again by the storm's last turn may not have its SIGTERM handler yet: wait for its start line.
  auto started = [](BackgroundProcess& w) { return w.err().find("started on") != std::string::npos; };
  for (auto& w : workers)
    for (auto until = std::chrono::steady_clock::now() + scaled(std::chrono::seconds(10));
         !started(*w) && std::chrono::steady_clock::now() < until;)
      w->pump(50);
  for (auto& w : workers) w->signal(SIGTERM);
  for (auto& w : workers) {
    int code = w->wait(std::chrono::seconds(20));
    BOOST_TEST(code == 0, "worker exit " << code << ": " << w->err());
  }

  BOOST_TEST(done == tasks);
  BOOST_TEST(hosts.pg_int("SELECT count(*) FROM tasks") == tasks);
  BOOST_TEST(hosts.pg_int("SELECT count(*) FROM tasks WHERE status <> 'succeeded'") == 0);
  // Exactly one successful attempt per task: no completion was recorded twice.
  BOOST_TEST(hosts.pg_int("SELECT count(*) FROM task_attempts WHERE outcome = 'succeeded'") == tasks);
  auto runs = runs_in(ran);
  BOOST_TEST(runs.size() == static_cast<std::size_t>(tasks));
  auto c = hosts.connect();
  int rerun = 0;
  for (const auto& [id, count] : runs) {
    if (count == 1) continue;
    ++rerun;
    auto lost = c.exec_params("SELECT count(*) FROM task_attempts WHERE task_id = $1 AND outcome = 'lost'",
                              {std::to_string(id)});
    BOOST_TEST(std::stoll(std::string(lost.text(0, 0))) >= count - 1,
               "task " << id << " ran " << count << " times with fewer lost runs");
  }
  // Rescued within lease + 5 s: a run of 50 ms never renews its lease, so it expired lease after its start, and the
  // reclaim that ended it as lost came at most 5 s later.
  auto slowest =
      c.exec_params("SELECT coalesce(max(ended_at - started_at), 0) FROM task_attempts WHERE outcome = 'lost'");
  BOOST_TEST(std::stoll(std::string(slowest.text(0, 0))) <= k_lease_ms + 5000);
  BOOST_TEST(rerun > 0, "no kill landed while a task ran: the storm proved nothing");
  BOOST_TEST_MESSAGE("kill storm: " << kills << " kills, " << rerun << " tasks run again after a kill, "
                                    << hosts.pg_int("SELECT count(*) FROM task_attempts WHERE outcome = 'lost'")
                                    << " lost attempts, slowest rescue " << slowest.text(0, 0)
                                    << " ms after the claim; outcomes "
                                    << hosts.pg_text("SELECT string_agg(outcome || ' ' || n, ', ') FROM (SELECT "
                                                     "outcome, count(*) AS n FROM task_attempts GROUP BY outcome) o"));
}

}  // namespace oos::test
