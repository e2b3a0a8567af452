// Everything OOS exposes to Prometheus passes `promtool check metrics` (Debian package prometheus): the
// output of `oos-queue metrics`, the worker's oos_worker_<name>.prom and oos_queue.prom, and the files of
// oos-backup, oos-integrity, oos-cleanup, oos-health and oos-search; and no series is exposed by two files
// (node_exporter's textfile collector refuses the whole scrape then). promtool is $OOS_PROMTOOL, else found in PATH;
// without it the tests fail.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "cli/cli_support.hpp"
#include "support/fake_search_server.hpp"

using oos::test::CliFixture;
using oos::test::handler_toml;
using oos::test::LibraryWorker;
namespace fs = std::filesystem;

namespace {

// $OOS_PROMTOOL, else the first executable promtool in PATH; "" when there is none (or $OOS_PROMTOOL names
// no executable file).
std::string find_promtool() {
  if (const char* set = std::getenv("OOS_PROMTOOL"); set && *set) return ::access(set, X_OK) == 0 ? set : "";
  auto found = oos::util::find_program("promtool");
  return found ? found->string() : "";
}

// A state directory whose config sends the metrics to <dir>/metrics, and promtool.
struct PromtoolFixture : CliFixture {
  std::string promtool = find_promtool();

  PromtoolFixture() {
    fs::create_directories(metrics_dir());
    write_config(metrics_toml());
  }
  fs::path metrics_dir() const { return state_dir().parent_path() / "metrics"; }
  std::string metrics_toml() const { return "[metrics]\ntextfile_dir = \"" + metrics_dir().string() + "\"\n\n"; }
  std::string prom(const std::string& name) const { return oos::test::read_file(metrics_dir() / name); }

  // Runs `promtool check metrics` on `text`: it must exit 0 and say nothing (it prints each problem).
  void check(const std::string& what, const std::string& text) {
    if (promtool.empty())
      BOOST_FAIL(
          "promtool not found ($OOS_PROMTOOL, else PATH): run scripts/install-deps, which installs the "
          "Debian package prometheus, or set OOS_PROMTOOL to its path");
    BOOST_TEST_REQUIRE(!text.empty(), what << " is empty");
    auto r = run({promtool, "check", "metrics"}, text);
    BOOST_TEST(r.exit_code == 0, what << ": promtool exited " << r.exit_code << ": " << r.out << r.err << "\n" << text);
    BOOST_TEST(r.out.empty(), what << ": promtool said on stdout: " << r.out);
    BOOST_TEST(r.err.empty(), what << ": promtool said on stderr: " << r.err);
  }

  // Queues in every state: succeeded, dead, retrying, running, delayed, cancelled, a paused queue, an open
  // breaker, and the events of a recovery and a restore.
  void fill_the_queues() {
    for (int i = 0; i < 6; ++i) enqueue("work", "job");
    enqueue("work", "job", {"--delay", "1h"});
    BOOST_TEST_REQUIRE(queue({"pause", "idle"}).exit_code == 0);
    {
      LibraryWorker worker(db_path(), oos::test::now_ms());
      worker.complete(worker.claim("work"));
      worker.advance(1'500);
      worker.fail(worker.claim("work"), oos::policy::FailureKind::permanent, "bad", 65);
      worker.fail(worker.claim("work"), oos::policy::FailureKind::retryable, "flaky", 1);
      worker.claim("work");
    }
    BOOST_TEST_REQUIRE(queue({"cancel", "5"}).exit_code == 0);
    auto now = std::to_string(oos::test::now_ms());
    sql_exec(
        "INSERT INTO breakers (kind, name, state, consecutive_failures, opened_at, cooldown_ms, updated_at) "
        "VALUES ('queue', 'mail', 'open', 10, " +
        now + ", 60000, " + now + ")");
    sql_exec("INSERT INTO events (at, kind, object, detail) VALUES (" + now +
             ", 'integrity.recovered', 'database', ''), (" + now + ", 'backup.restored', 'backup/x.db', '')");
  }
};

// The series (name and labels) of each sample line of `text`, and the HELP and TYPE lines by metric name.
struct Parsed {
  std::set<std::string> series;
  std::map<std::string, std::string> help_and_type;
};

Parsed parse(const std::string& text) {
  Parsed p;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      auto rest = line.substr(7);
      auto name = rest.substr(0, rest.find(' '));
      p.help_and_type[name] += line + "\n";
    } else if (!line.empty() && !line.starts_with("#")) {
      p.series.insert(line.substr(0, line.rfind(' ')));
    }
  }
  return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(promtool)

BOOST_FIXTURE_TEST_CASE(promtool_reports_a_badly_named_metric, PromtoolFixture) {
  if (promtool.empty()) check("promtool itself", "x 1\n");  // fails with the message saying how to install it
  auto r = run({promtool, "check", "metrics"}, "# HELP oos_things Things\n# TYPE oos_things counter\noos_things 1\n");
  BOOST_TEST(r.exit_code != 0, r.out << r.err);
  BOOST_TEST((r.out + r.err).find("_total") != std::string::npos, r.out << r.err);
}

BOOST_FIXTURE_TEST_CASE(oos_queue_metrics_passes, PromtoolFixture) {
  create_database();
  check("oos-queue metrics of an empty database", queue({"metrics"}).out);
  fill_the_queues();
  auto r = queue({"metrics"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST_REQUIRE(r.out.find("oos_database_last_restore_timestamp_seconds") != std::string::npos, r.out);
  check("oos-queue metrics", r.out);
}

BOOST_FIXTURE_TEST_CASE(the_worker_files_pass, PromtoolFixture) {
  write_config(metrics_toml() + handler_toml("job", write_script("ok.sh", "exit 0\n")));
  fill_the_queues();
  enqueue("default", "job");
  auto r = worker({"--drain", "--name", "host-1:7"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  check("oos_worker_host-1:7.prom", prom("oos_worker_host-1:7.prom"));
  check("oos_queue.prom", prom("oos_queue.prom"));
}

BOOST_FIXTURE_TEST_CASE(the_periodic_tools_files_pass, PromtoolFixture) {
  enqueue("default", "job");
  BOOST_TEST_REQUIRE(backup({}).exit_code == 0);
  BOOST_TEST_REQUIRE(integrity({}).exit_code == 0);
  BOOST_TEST_REQUIRE(cleanup({}).exit_code == 0);
  BOOST_TEST_REQUIRE(health({}).exit_code == 2);  // CRITICAL: a runnable task and no worker
  for (const char* file : {"oos_backup.prom", "oos_integrity.prom", "oos_cleanup.prom", "oos_health.prom"})
    check(file, prom(file));

  write_config(metrics_toml() + "[backup]\ndir = \"" + (state_dir() / "oos.db").string() + "\"\n");  // a file
  BOOST_TEST_REQUIRE(backup({}).exit_code == 74);
  check("oos_backup.prom of a failed run", prom("oos_backup.prom"));
}

BOOST_FIXTURE_TEST_CASE(the_search_file_passes, PromtoolFixture) {
  oos::test::FakeSearchServer server;
  write_config(metrics_toml() + "[search]\nproviders = [\"google\", \"searxng\"]\n[search.google]\nendpoint = \"" +
               server.google_endpoint() + "\"\n[search.searxng]\nendpoint = \"" + server.searxng_endpoint() + "\"\n");
  server.script("google", {oos::test::Reply::daily_limit});
  auto r = run_tool("OOS_SEARCH_BIN", {"metrics", "text"}, {"GOOGLE_SEARCH_API_KEY=k", "GOOGLE_SEARCH_ENGINE_ID=e"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  auto text = prom("oos_search.prom");
  BOOST_TEST(text.find("oos_search_quota_used{provider=\"google\"} 1") != std::string::npos, text);
  check("oos_search.prom", text);
}

BOOST_FIXTURE_TEST_CASE(no_series_is_exposed_by_two_files, PromtoolFixture) {
  write_config(metrics_toml() + handler_toml("job", write_script("ok.sh", "exit 0\n")));
  fill_the_queues();
  BOOST_TEST_REQUIRE(backup({}).exit_code == 0);
  BOOST_TEST_REQUIRE(integrity({}).exit_code == 0);
  BOOST_TEST_REQUIRE(cleanup({}).exit_code == 0);
  for (const char* name : {"1", "2"}) BOOST_TEST_REQUIRE(worker({"--drain", "--name", name}).exit_code == 0);
  BOOST_TEST_REQUIRE(queue({"metrics", "--textfile"}).exit_code == 0);
  BOOST_TEST_REQUIRE(health({}).exit_code <= 2);

  std::map<std::string, std::string> owner;          // series -> the file exposing it
  std::map<std::string, std::string> help_and_type;  // metric -> its HELP and TYPE lines in the first file
  int files = 0;
  for (const auto& entry : fs::directory_iterator(metrics_dir())) {
    auto file = entry.path().filename().string();
    BOOST_TEST_REQUIRE(file.ends_with(".prom"), file << " is not a textfile");
    ++files;
    auto parsed = parse(oos::test::read_file(entry.path()));
    for (const auto& series : parsed.series) {
      auto [it, fresh] = owner.emplace(series, file);
      BOOST_TEST(fresh, series << " is in " << file << " and in " << it->second);
    }
    // node_exporter merges families of the same name from several files (the workers'): HELP and TYPE agree.
    for (const auto& [metric, lines] : parsed.help_and_type) {
      auto [it, fresh] = help_and_type.emplace(metric, lines);
      BOOST_TEST((fresh || it->second == lines), metric << " is described differently in " << file);
    }
  }
  BOOST_TEST(files == 7);  // backup, integrity, cleanup, health, queue, worker_1, worker_2
}

BOOST_AUTO_TEST_SUITE_END()
