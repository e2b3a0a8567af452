// `oos-queue metrics` and the worker's textfiles on a shared PostgreSQL (docs/reference.md sections 13 and 19): the
// same series with the same values as on SQLite, after the same tasks ran (tests/cli/test_metrics.cpp checks them
// on SQLite alone).
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <map>
#include <sstream>
#include <string>

#include "pg_support.hpp"

namespace fs = std::filesystem;

namespace oos::test {
namespace {

using Series = std::map<std::string, double>;

// The samples of an exposition: "name{labels}" -> value (comments left out).
Series series_of(const std::string& text) {
  Series out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.starts_with('#')) continue;
    const auto space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

// The names and labels of `series`, without their values.
std::vector<std::string> names_of(const Series& series) {
  std::vector<std::string> out;
  for (const auto& [name, value] : series) out.push_back(name);
  return out;
}

struct Outputs {
  Series queue_metrics;  // oos-queue metrics
  Series queue_file;     // oos_queue.prom as the worker left it
  Series worker_file;    // oos_worker_7.prom
};

// On the host whose state directory is `state_dir` (PostgreSQL when OOS_DATABASE_URL is set): two tasks that
// succeed and one that fails for good in `default`, run by worker 7; a delayed task in the paused queue `mail`.
Outputs run_the_same_tasks(PgHosts& f, const fs::path& state_dir, const fs::path& metrics_dir) {
  fs::remove_all(metrics_dir);
  fs::create_directories(metrics_dir);
  auto queue = [&](const std::vector<std::string>& args) {
    auto r = f.queue_at(state_dir, args);
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
    return r.out;
  };
  queue({"enqueue", "default", "ok"});
  queue({"enqueue", "default", "ok"});
  queue({"enqueue", "default", "bad"});
  queue({"enqueue", "mail", "send", "--delay", "1h"});
  queue({"pause", "mail"});
  auto worked = f.run(f.tool_argv("OOS_WORKER_BIN", state_dir, {"--drain", "--name", "7"}));
  BOOST_TEST_REQUIRE(worked.exit_code == 0, worked.err);
  return {series_of(queue({"metrics"})), series_of(read_file(metrics_dir / "oos_queue.prom")),
          series_of(read_file(metrics_dir / "oos_worker_7.prom"))};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_metrics)

BOOST_FIXTURE_TEST_CASE(the_queue_metrics_and_the_worker_files_are_the_same_series_as_on_sqlite, PgHosts) {
  const fs::path metrics_dir = dir() / "metrics";
  write_config("[metrics]\ntextfile_dir = \"" + metrics_dir.string() + "\"\n\n" +
               handler_toml("ok", write_script("ok.sh", "exit 0\n")) +
               handler_toml("bad", write_script("bad.sh", "exit 3\n"), "permanent_exit_codes = [3]"));
  ::unsetenv("OOS_DATABASE_URL");
  const Outputs sqlite = run_the_same_tasks(*this, dir() / "sqlite-host", metrics_dir);
  ::setenv("OOS_DATABASE_URL", url.c_str(), 1);
  const Outputs pg = run_the_same_tasks(*this, state_dir(), metrics_dir);
  BOOST_TEST(!fs::exists(db_path()), "on PostgreSQL, no SQLite file is created");

  BOOST_TEST(pg.queue_metrics.at(R"(oos_queue_tasks{queue="default",state="succeeded"})") == 2.0);
  BOOST_TEST(pg.queue_metrics.at(R"(oos_queue_runs_total{queue="default",outcome="failed"})") == 1.0);
  BOOST_TEST(pg.queue_metrics.at(R"(oos_queue_paused{queue="mail"})") == 1.0);
  BOOST_TEST(pg.queue_metrics.at("oos_queue_dead_letter_tasks") == 1.0);
  BOOST_TEST(names_of(pg.queue_metrics) == names_of(sqlite.queue_metrics));
  for (const auto& [name, value] : sqlite.queue_metrics)
    if (!name.starts_with("oos_queue_run_seconds_total"))  // how long the handlers took
      BOOST_TEST(pg.queue_metrics.at(name) == value, name);
  BOOST_TEST(names_of(pg.queue_file) == names_of(sqlite.queue_file));
  BOOST_TEST(names_of(pg.worker_file) == names_of(sqlite.worker_file));
  for (const char* name :
       {R"(oos_worker_tasks_started_total{worker="7"})",
        R"(oos_worker_tasks_finished_total{worker="7",outcome="succeeded"})",
        R"(oos_worker_tasks_finished_total{worker="7",outcome="failed"})", R"(oos_worker_running{worker="7"})"})
    BOOST_TEST(pg.worker_file.at(name) == sqlite.worker_file.at(name), name);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace oos::test
