// oos-cleanup's run in-process: real files deleted by the rules, task retention and silent workers on a real
// SQLite file, the action log; a dry run goes through the same steps, reports the same and changes nothing.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cleanup/run.hpp"
#include "queue/sqlite_worker_registry.hpp"
#include "store/sqlite_backend.hpp"
#include "store_fixture.hpp"

using namespace oos;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::int64_t k_day_ms = 86'400'000;

// Under logs/: old.log and sub/old2.log (30 days old, 1000 bytes each) match the rule "*.log older than 7d";
// new.log is too recent and old.txt has another name. One dead task past its retention, one worker row silent
// for 25 hours.
struct CleanupFixture : test::StoreFixture {
  store::SqliteBackend backend{*db, config, clock, *logger};
  fs::path logs = dir / "logs";

  CleanupFixture() {
    clock.set(util::SystemClock().now());  // the files' times are real
    make_file(logs / "old.log", 30);
    make_file(logs / "new.log", 0);
    make_file(logs / "old.txt", 30);
    make_file(logs / "sub" / "old2.log", 30);
    config.cleanup.rules = {{logs.string(), "*.log", std::chrono::days(7)}};
    config.queue.dead_retention = util::Millis(1);
    add();
    auto claimed = tasks.claim(std::vector<std::string>{"default"}, "w");
    tasks.fail(claimed->lease, {policy::FailureKind::permanent, "broken", 65});
    queue::SqliteWorkerRegistry(*db).heartbeat("gone", 1, "h", 0, clock.now() - 25 * 3'600'000, "idle", 0);
    clock.advance(1000);
  }
  static void make_file(const fs::path& path, int age_days) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << std::string(1000, 'x');
    fs::last_write_time(path, fs::file_time_type::clock::now() - std::chrono::hours(24 * age_days));
  }
  cleanup::RunReport run(cleanup::Force force, DryRun dry_run) {
    return cleanup::run({backend, config, clock, *logger, dir.path(), dir / "backups"}, force, dry_run);
  }
  std::vector<json> log_lines(const fs::path& log) {
    std::vector<json> out;
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    return out;
  }
  long long events() { return sql_int("SELECT count(*) FROM events WHERE kind = 'cleanup.run'"); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(cleanup_run)

BOOST_FIXTURE_TEST_CASE(a_forced_run_deletes_the_old_matching_files_and_applies_retention, CleanupFixture) {
  auto report = run(cleanup::Force::yes, DryRun::no);
  BOOST_TEST(report.rules_applied);
  BOOST_TEST(report.files == 2);
  BOOST_TEST(report.bytes == 2000u);
  BOOST_TEST(report.failed == 0);
  BOOST_TEST(!fs::exists(logs / "old.log"));
  BOOST_TEST(!fs::exists(logs / "sub" / "old2.log"));
  BOOST_TEST(fs::exists(logs / "new.log"));
  BOOST_TEST(fs::exists(logs / "old.txt"));
  BOOST_TEST(report.purged.dead == 1);
  BOOST_TEST(report.silent_workers == 1);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
  BOOST_TEST(sql_int("SELECT count(*) FROM workers") == 0);
  BOOST_TEST(events() == 1);
  BOOST_TEST(report.log.parent_path() == dir / "cleanup_logs");
  int deletes = 0;
  for (const auto& line : log_lines(report.log)) {
    BOOST_TEST(line["dry_run"] == false);
    if (line["action"] == "delete") ++deletes;
  }
  BOOST_TEST(deletes == 2);
}

BOOST_FIXTURE_TEST_CASE(a_dry_run_reports_what_the_real_run_then_does_and_changes_nothing, CleanupFixture) {
  auto dry = run(cleanup::Force::yes, DryRun::yes);
  BOOST_TEST(fs::exists(logs / "old.log"));
  BOOST_TEST(fs::exists(logs / "sub" / "old2.log"));
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 1);
  BOOST_TEST(sql_int("SELECT count(*) FROM workers") == 1);
  BOOST_TEST(events() == 0);
  BOOST_TEST(dry.summary.starts_with("dry run: 2 files"), dry.summary);
  for (const auto& line : log_lines(dry.log)) BOOST_TEST(line["dry_run"] == true);

  auto real = run(cleanup::Force::yes, DryRun::no);
  BOOST_TEST(!fs::exists(logs / "old.log"));
  BOOST_TEST(dry.rules_applied == real.rules_applied);
  BOOST_TEST(dry.files == real.files);
  BOOST_TEST(dry.bytes == real.bytes);
  BOOST_TEST(dry.failed == real.failed);
  BOOST_TEST(dry.purged.dead == real.purged.dead);
  BOOST_TEST(dry.purged.succeeded == real.purged.succeeded);
  BOOST_TEST(dry.silent_workers == real.silent_workers);
  BOOST_TEST(real.files == 2);
}

BOOST_FIXTURE_TEST_CASE(below_the_threshold_the_rules_wait_and_retention_still_applies, CleanupFixture) {
  config.cleanup.threshold_percent = 100;
  auto report = run(cleanup::Force::no, DryRun::no);
  BOOST_TEST(!report.rules_applied);
  BOOST_TEST(report.files == 0);
  BOOST_TEST(fs::exists(logs / "old.log"));
  BOOST_TEST(report.summary.find("(disk below 100%: rules not applied)") != std::string::npos, report.summary);
  BOOST_TEST(report.purged.dead == 1);
  BOOST_TEST(report.before.size() == report.after.size());
}

BOOST_FIXTURE_TEST_CASE(above_the_threshold_the_rules_apply_without_force, CleanupFixture) {
  config.cleanup.threshold_percent = 0;  // any filesystem in use is above 0%
  auto report = run(cleanup::Force::no, DryRun::no);
  BOOST_TEST(report.rules_applied);
  BOOST_TEST(report.files == 2);
}

BOOST_FIXTURE_TEST_CASE(the_log_goes_to_cleanup_log_dir_when_set, CleanupFixture) {
  config.cleanup.log_dir = (dir / "elsewhere").string();
  auto report = run(cleanup::Force::no, DryRun::yes);
  BOOST_TEST(report.log.parent_path() == dir / "elsewhere");
  BOOST_TEST(fs::exists(report.log));
  BOOST_TEST(!fs::exists(dir / "cleanup_logs"));
}

BOOST_AUTO_TEST_SUITE_END()
