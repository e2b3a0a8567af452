// The textfile metrics of the periodic tools (oos-backup, oos-integrity, oos-cleanup) and the events of
// their failed runs; `oos-queue metrics`; the worker's files (oos_worker_<name>.prom, oos_queue.prom).
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/cli_support.hpp"

using nlohmann::json;
using oos::test::CliFixture;
using oos::test::handler_toml;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A state directory whose config sends the metrics to <dir>/metrics.
struct MetricsFixture : CliFixture {
  MetricsFixture() {
    fs::create_directories(metrics_dir());
    write_config("[metrics]\ntextfile_dir = \"" + metrics_dir().string() + "\"\n");
  }
  fs::path metrics_dir() const { return state_dir().parent_path() / "metrics"; }
  std::string prom(const std::string& tool) const {
    return oos::test::read_file(metrics_dir() / ("oos_" + tool + ".prom"));
  }
};

// The value of the sample `series` (name and labels as written) in `text`; NaN when absent.
double sample(const std::string& text, const std::string& series) {
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return std::numeric_limits<double>::quiet_NaN();
  return std::stod(text.substr(at + series.size() + 2));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_FIXTURE_TEST_CASE(a_backup_writes_its_job_metrics, MetricsFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "default", "job"}).exit_code == 0);
  auto before = static_cast<double>(oos::test::now_ms()) / 1000;
  auto created = backup({"--json"});
  BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
  auto text = prom("backup");
  BOOST_TEST(text.find("# TYPE oos_backup_runs_succeeded_total counter\n") != std::string::npos, text);
  BOOST_TEST(sample(text, "oos_backup_last_run_exit_code") == 0.0);
  BOOST_TEST(sample(text, "oos_backup_runs_succeeded_total") == 1.0);
  BOOST_TEST(sample(text, "oos_backup_runs_failed_total") == 0.0);
  BOOST_TEST(sample(text, "oos_backup_files") == 1.0);
  BOOST_TEST(sample(text, "oos_backup_last_tasks") == 1.0);
  auto size = fs::file_size(json::parse(created.out)["path"].get<std::string>());
  BOOST_TEST(sample(text, "oos_backup_last_size_bytes") == static_cast<double>(size));
  auto success = sample(text, "oos_backup_last_success_timestamp_seconds");
  BOOST_TEST_REQUIRE(!std::isnan(success), text);
  BOOST_TEST(success >= before - 1);
  BOOST_TEST(success <= static_cast<double>(oos::test::now_ms()) / 1000 + 1);
  BOOST_TEST(!fs::exists(metrics_dir() / "oos_integrity.prom"));  // each tool its own file
}

BOOST_FIXTURE_TEST_CASE(a_failed_backup_is_an_event_and_keeps_the_last_success_time, MetricsFixture) {
  BOOST_TEST_REQUIRE(backup({}).exit_code == 0);
  auto first_success = sample(prom("backup"), "oos_backup_last_success_timestamp_seconds");
  BOOST_TEST_REQUIRE(!std::isnan(first_success));
  std::ofstream(state_dir() / "not-a-dir") << "x";
  write_config("[metrics]\ntextfile_dir = \"" + metrics_dir().string() + "\"\n\n[backup]\ndir = \"" +
               (state_dir() / "not-a-dir").string() + "\"\n");
  auto failed = backup({});
  BOOST_TEST_REQUIRE(failed.exit_code == 74, failed.err);
  auto text = prom("backup");
  BOOST_TEST(sample(text, "oos_backup_last_run_exit_code") == 74.0, text);
  BOOST_TEST(sample(text, "oos_backup_runs_failed_total") == 1.0);
  BOOST_TEST(sample(text, "oos_backup_runs_succeeded_total") == 1.0);
  BOOST_TEST(sample(text, "oos_backup_last_success_timestamp_seconds") == first_success);
  BOOST_TEST(std::isnan(sample(text, "oos_backup_last_size_bytes")));  // nothing was made
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'backup.failed' AND detail LIKE 'exit code 74: %'") ==
             1);
}

BOOST_FIXTURE_TEST_CASE(an_integrity_recovery_counts_as_a_run_that_did_its_job, MetricsFixture) {
  std::string lines;
  for (int i = 0; i < 200; ++i) lines += R"({"type":"job","data":{"pad":")" + std::string(3000, 'x') + "\"}}\n";
  BOOST_TEST_REQUIRE(queue({"enqueue", "default", "--batch"}, lines).exit_code == 0);
  BOOST_TEST_REQUIRE(integrity({}).exit_code == 0);
  auto sound = prom("integrity");
  BOOST_TEST(sample(sound, "oos_integrity_database_ok") == 1.0, sound);
  BOOST_TEST(!std::isnan(sample(sound, "oos_integrity_fragmentation_ratio")));
  BOOST_TEST_REQUIRE(backup({}).exit_code == 0);
  oos::test::corrupt_pages(db_path());

  auto recovered = integrity({});
  BOOST_TEST_REQUIRE(recovered.exit_code == 1, recovered.err);
  auto text = prom("integrity");
  BOOST_TEST(sample(text, "oos_integrity_database_ok") == 0.0, text);
  BOOST_TEST(sample(text, "oos_integrity_recovered") == 1.0);
  BOOST_TEST(sample(text, "oos_integrity_last_run_exit_code") == 1.0);
  BOOST_TEST(sample(text, "oos_integrity_runs_failed_total") == 0.0);  // exit 1 is the job done
  BOOST_TEST(sample(text, "oos_integrity_runs_succeeded_total") == 1.0);
}

BOOST_FIXTURE_TEST_CASE(cleanup_reports_the_disks_and_a_dry_run_writes_nothing, MetricsFixture) {
  auto dry = cleanup({"--dry-run"});
  BOOST_TEST_REQUIRE(dry.exit_code == 0, dry.err);
  BOOST_TEST(!fs::exists(metrics_dir() / "oos_cleanup.prom"));
  auto run = cleanup({});
  BOOST_TEST_REQUIRE(run.exit_code == 0, run.err);
  auto text = prom("cleanup");
  auto used = sample(text, "oos_cleanup_disk_used_ratio{path=\"" + state_dir().string() + "\"}");
  BOOST_TEST(used > 0.0, text);  // false for NaN
  BOOST_TEST(used <= 1.0);
  BOOST_TEST(sample(text, "oos_cleanup_last_purged_tasks{state=\"dead\"}") == 0.0);
  BOOST_TEST(sample(text, "oos_cleanup_runs_succeeded_total") == 1.0);
}

BOOST_FIXTURE_TEST_CASE(a_missing_metrics_directory_is_a_warning_not_a_failed_run, MetricsFixture) {
  fs::remove_all(metrics_dir());
  auto created = backup({});
  BOOST_TEST(created.exit_code == 0, created.err);
  BOOST_TEST(created.err.find("oos_backup.prom") != std::string::npos, created.err);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'backup.created'") == 1);
}

BOOST_FIXTURE_TEST_CASE(oos_queue_metrics_prints_the_queues_exposition, MetricsFixture) {
  enqueue("mail", "send");
  enqueue("mail", "send");
  enqueue("images", "resize", {"--delay", "1h"});
  BOOST_TEST_REQUIRE(queue({"pause", "images"}).exit_code == 0);
  sql_exec(
      "INSERT INTO breakers (kind, name, state, consecutive_failures, opened_at, cooldown_ms, updated_at) "
      "VALUES ('queue', 'mail', 'open', 10, " +
      std::to_string(oos::test::now_ms()) + ", 60000, 0)");
  auto r = queue({"metrics"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(r.err.empty(), r.err);
  BOOST_TEST(r.out.starts_with("# HELP oos_queue_tasks "), r.out);
  BOOST_TEST(sample(r.out, R"(oos_queue_tasks{queue="mail",state="pending"})") == 2.0);
  BOOST_TEST(sample(r.out, R"(oos_queue_runnable_tasks{queue="images"})") == 0.0);
  BOOST_TEST(sample(r.out, R"(oos_queue_tasks{queue="images",state="pending"})") == 1.0);
  BOOST_TEST(sample(r.out, R"(oos_queue_paused{queue="images"})") == 1.0);
  BOOST_TEST(sample(r.out, R"(oos_queue_breaker_state{queue="mail"})") == 2.0);
  BOOST_TEST(sample(r.out, "oos_queue_dead_letter_tasks") == 0.0);
  BOOST_TEST(!fs::exists(metrics_dir() / "oos_queue.prom"));  // stdout only, without --textfile
}

BOOST_FIXTURE_TEST_CASE(oos_queue_metrics_textfile_writes_oos_queue_prom_and_prints_nothing, MetricsFixture) {
  enqueue("mail", "send", {"--delay", "1h"});  // not runnable: no wait that grows between the two runs
  auto r = queue({"metrics", "--textfile"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(r.out.empty(), r.out);
  BOOST_TEST(prom("queue") == queue({"metrics"}).out);
}

BOOST_FIXTURE_TEST_CASE(oos_queue_metrics_textfile_needs_the_directory_in_the_config, CliFixture) {
  create_database();
  auto r = queue({"metrics", "--textfile"});
  BOOST_TEST(r.exit_code == 78);
  BOOST_TEST(oos::test::is_one_error_line(r.err), r.err);
  BOOST_TEST(r.err.find("metrics.textfile_dir") != std::string::npos, r.err);
}

BOOST_FIXTURE_TEST_CASE(a_worker_writes_its_own_file_and_the_queues_file, MetricsFixture) {
  write_config("[metrics]\ntextfile_dir = \"" + metrics_dir().string() + "\"\n\n" +
               handler_toml("ok", write_script("ok.sh", "exit 0\n")) +
               handler_toml("bad", write_script("bad.sh", "exit 3\n"), "permanent_exit_codes = [3]"));
  enqueue("default", "ok");
  enqueue("default", "ok");
  enqueue("default", "bad");
  auto before = static_cast<double>(oos::test::now_ms()) / 1000;
  auto r = worker({"--drain", "--name", "7"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  auto own = prom("worker_7");
  BOOST_TEST(sample(own, R"(oos_worker_running{worker="7"})") == 0.0, own);  // the file it left on exit
  BOOST_TEST(sample(own, R"(oos_worker_tasks_started_total{worker="7"})") == 3.0);
  BOOST_TEST(sample(own, R"(oos_worker_tasks_finished_total{worker="7",outcome="succeeded"})") == 2.0);
  BOOST_TEST(sample(own, R"(oos_worker_tasks_finished_total{worker="7",outcome="failed"})") == 1.0);
  BOOST_TEST(sample(own, R"(oos_worker_tasks_finished_total{worker="7",outcome="released"})") == 0.0);
  BOOST_TEST(sample(own, R"(oos_worker_resident_memory_bytes{worker="7"})") > 1e6);
  auto started = sample(own, R"(oos_worker_start_time_seconds{worker="7"})");
  BOOST_TEST(started >= before - 1);
  BOOST_TEST(sample(own, R"(oos_worker_last_update_timestamp_seconds{worker="7"})") >= started);
  auto queues = prom("queue");
  BOOST_TEST(sample(queues, R"(oos_queue_tasks{queue="default",state="succeeded"})") == 2.0, queues);
  BOOST_TEST(sample(queues, R"(oos_queue_runs_total{queue="default",outcome="failed"})") == 1.0);
  BOOST_TEST(sample(queues, "oos_queue_dead_letter_tasks") == 1.0);
}

BOOST_FIXTURE_TEST_CASE(a_running_worker_rewrites_its_file_every_metrics_interval, MetricsFixture) {
  write_config("[metrics]\ntextfile_dir = \"" + metrics_dir().string() +
               "\"\n\n[worker]\nmetrics_interval = \"1s\"\npoll_interval = \"100ms\"\n");
  auto w = start_worker({"--name", "busy"});
  auto file = metrics_dir() / "oos_worker_busy.prom";
  auto updated = [&] {
    return sample(oos::test::read_file(file), R"(oos_worker_last_update_timestamp_seconds{worker="busy"})");
  };
  BOOST_TEST_REQUIRE(oos::test::eventually([&] { return fs::exists(file); }, oos::test::scaled(10s), {w.get()}),
                     w->err());
  BOOST_TEST(sample(oos::test::read_file(file), R"(oos_worker_running{worker="busy"})") == 1.0);
  auto first = updated();
  BOOST_TEST(oos::test::eventually([&] { return updated() > first; }, oos::test::scaled(10s), {w.get()}), w->err());
  enqueue("other", "x");  // a queue the worker does not serve: its next oos_queue.prom shows it
  BOOST_TEST(oos::test::eventually(
      [&] {
        return oos::test::read_file(metrics_dir() / "oos_queue.prom").find("queue=\"other\"") != std::string::npos;
      },
      oos::test::scaled(10s), {w.get()}));
  w->signal(SIGTERM);
  BOOST_TEST_REQUIRE(w->wait(oos::test::scaled(30s)) == 0, w->err());
  BOOST_TEST(sample(oos::test::read_file(file), R"(oos_worker_running{worker="busy"})") == 0.0);
}

BOOST_AUTO_TEST_SUITE_END()
