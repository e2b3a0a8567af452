#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/cli_support.hpp"

using nlohmann::json;
using oos::policy::FailureKind;
using oos::test::CliFixture;
using oos::test::LibraryWorker;
using oos::test::now_ms;
namespace fs = std::filesystem;

namespace {

void make_file(const fs::path& path, int age_days) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << std::string(1000, 'x');
  fs::last_write_time(path, fs::file_time_type::clock::now() - std::chrono::hours(24 * age_days));
}

// logs/ with old and new files, a non-matching name, a subdirectory, a symlink to an old file outside and a
// symlink to a directory outside holding an old file. The rule: *.log older than 7 days.
struct CleanupFixture : CliFixture {
  fs::path logs = dir() / "logs";
  fs::path outside = dir() / "outside";
  CleanupFixture() {
    make_file(logs / "old.log", 30);
    make_file(logs / "new.log", 0);
    make_file(logs / "old.txt", 30);
    make_file(logs / "sub" / "old2.log", 30);
    make_file(outside / "target.log", 30);
    make_file(outside / "dir" / "old3.log", 30);
    fs::create_symlink(outside / "target.log", logs / "link.log");
    fs::create_directory_symlink(outside / "dir", logs / "linkdir");
  }
  void config(int threshold) {
    write_config(
        fmt::format("[cleanup]\nthreshold_percent = {}\n\n[[cleanup.rule]]\ndir = \"{}\"\npattern = "
                    "\"*.log\"\nolder_than = \"7d\"\n\n[queue]\ndead_retention = \"1ms\"\n",
                    threshold, logs.string()));
  }
  std::vector<json> log_lines() {
    std::vector<json> out;
    for (const auto& f : fs::directory_iterator(state_dir() / "cleanup_logs")) {
      std::ifstream in(f.path());
      for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    }
    return out;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(cleanup)

BOOST_FIXTURE_TEST_CASE(force_deletes_only_old_matching_regular_files_inside_the_rule_dir, CleanupFixture) {
  config(100);
  auto r = cleanup({"--force", "--json"});
  BOOST_TEST(r.exit_code == 0, r.err);
  auto doc = json::parse(r.out);
  BOOST_TEST(doc["rules_applied"] == true);
  BOOST_TEST(doc["files"] == 2);
  BOOST_TEST(!fs::exists(logs / "old.log"));
  BOOST_TEST(!fs::exists(logs / "sub" / "old2.log"));
  BOOST_TEST(fs::exists(logs / "new.log"));
  BOOST_TEST(fs::exists(logs / "old.txt"));
  BOOST_TEST(fs::is_symlink(logs / "link.log"));   // a link is never deleted ...
  BOOST_TEST(fs::exists(outside / "target.log"));  // ... nor followed
  BOOST_TEST(fs::exists(outside / "dir" / "old3.log"));
  int deletes = 0;
  for (const auto& line : log_lines())
    if (line["action"] == "delete") {
      ++deletes;
      BOOST_TEST(line["dry_run"] == false);
      BOOST_TEST(line["path"].get<std::string>().starts_with(logs.string()));
    }
  BOOST_TEST(deletes == 2);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'cleanup.run'") == 1);
}

BOOST_FIXTURE_TEST_CASE(dry_run_goes_through_the_same_steps_and_deletes_nothing, CleanupFixture) {
  config(0);  // any usage is above 0%: the rules apply without --force
  BOOST_TEST_REQUIRE(queue({"enqueue", "default", "job"}).exit_code == 0);
  {
    LibraryWorker worker(db_path(), now_ms());
    worker.fail(worker.claim("default"), FailureKind::permanent, "broken", 65);
  }
  auto r = cleanup({"--dry-run", "--json"});
  BOOST_TEST(r.exit_code == 0, r.err);
  auto doc = json::parse(r.out);
  BOOST_TEST(doc["rules_applied"] == true);
  BOOST_TEST(doc["files"] == 2);
  BOOST_TEST(doc["dead_tasks"] == 1);
  BOOST_TEST(fs::exists(logs / "old.log"));
  BOOST_TEST(fs::exists(logs / "sub" / "old2.log"));
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'dead'") == 1);
  for (const auto& line : log_lines()) BOOST_TEST(line["dry_run"] == true);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'cleanup.run'") == 0);

  auto real = cleanup({"--json"});
  BOOST_TEST(real.exit_code == 0, real.err);
  BOOST_TEST(json::parse(real.out)["dead_tasks"] == 1);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'dead'") == 0);
  BOOST_TEST(!fs::exists(logs / "old.log"));
}

BOOST_FIXTURE_TEST_CASE(below_the_threshold_the_rules_wait_but_retention_applies, CleanupFixture) {
  config(100);
  auto r = cleanup({});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out.find("rules not applied") != std::string::npos, r.out);
  BOOST_TEST(fs::exists(logs / "old.log"));
  bool retention_logged = false;
  for (const auto& line : log_lines()) retention_logged = retention_logged || line["action"] == "retention";
  BOOST_TEST(retention_logged);
}

BOOST_FIXTURE_TEST_CASE(the_temporary_files_of_a_killed_backup_create_are_removed_and_logged, CleanupFixture) {
  config(100);  // below the threshold: the rules wait, the orphans do not
  auto backups = state_dir() / "backups";
  fs::create_directories(backups);
  std::vector<fs::path> orphans;
  for (const char* suffix : {"", "-journal", "-wal", "-shm", ".manifest"}) {
    orphans.push_back(backups / (std::string(".oos-20261128T120000Z.db.tmp") + suffix));
    std::ofstream(orphans.back()) << "partial";
  }
  auto r = cleanup({});
  BOOST_TEST(r.exit_code == 0, r.err);
  for (const auto& f : orphans) BOOST_TEST(!fs::exists(f), f);
  // The summary line (and the cleanup.run event) counts them with the rest of what the run removed.
  BOOST_TEST(r.out.find(", 5 orphaned temporary files of killed backups removed") != std::string::npos, r.out);
  int logged = 0;
  for (const auto& line : log_lines())
    if (line.value("action", "") == "delete" &&
        line.value("path", "").find(".oos-20261128T120000Z.db.tmp") != std::string::npos)
      ++logged;
  BOOST_TEST(logged == 5);
}

BOOST_FIXTURE_TEST_CASE(rows_of_workers_silent_for_over_a_day_are_removed, CleanupFixture) {
  config(100);
  create_database();
  auto now = oos::test::now_ms();
  auto row = [&](const std::string& name, std::int64_t age_ms) {
    sql_exec("INSERT INTO workers (name, pid, host, started_at, heartbeat_at, status, tasks_run) VALUES ('" + name +
             "', 1, 'h', 0, " + std::to_string(now - age_ms) + ", 'idle', 0)");
  };
  row("gone", 25 * 3600 * 1000LL);
  row("recent", 23 * 3600 * 1000LL);
  auto dry = cleanup({"--dry-run", "--json"});
  BOOST_TEST_REQUIRE(dry.exit_code == 0, dry.err);
  BOOST_TEST(json::parse(dry.out)["silent_workers"] == 1);
  BOOST_TEST(sql_int("SELECT count(*) FROM workers") == 2);
  auto r = cleanup({"--json"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(json::parse(r.out)["silent_workers"] == 1);
  BOOST_TEST(sql_text("SELECT group_concat(name) FROM workers") == "recent");
}

// A worker run by hand leaves oos_worker_<host:pid>.prom behind. oos-cleanup deletes the textfile of a worker gone
// for over a day: its file not rewritten for a day and no heartbeat of that name within a day.
BOOST_FIXTURE_TEST_CASE(textfiles_of_workers_gone_for_a_day_are_deleted, CliFixture) {
  auto metrics = dir() / "metrics";
  write_config(fmt::format("[metrics]\ntextfile_dir = \"{}\"\n", metrics.string()));
  make_file(metrics / "oos_worker_host:111.prom", 2);      // gone: old file, no row
  make_file(metrics / "oos_worker_silent.prom", 2);        // gone: old file, a row silent for two days
  make_file(metrics / "oos_worker_host:222.prom", 0);      // running: rewritten now
  make_file(metrics / "oos_worker_stuck-writer.prom", 2);  // beating, though its file is old: kept
  make_file(metrics / "oos_queue.prom", 2);                // not a worker's
  make_file(metrics / "oos_worker_notes.txt", 2);          // not a textfile
  create_database();
  auto now = now_ms();
  sql_exec(
      fmt::format("INSERT INTO workers (name, pid, host, started_at, heartbeat_at) VALUES "
                  "('silent', 1, 'h', {0}, {0}), ('stuck-writer', 2, 'h', {1}, {1})",
                  now - 2 * 86'400'000, now - 60'000));

  auto dry = cleanup({"--dry-run", "--json"});
  BOOST_TEST_REQUIRE(dry.exit_code == 0, dry.err);
  BOOST_TEST(json::parse(dry.out)["stale_textfiles"] == 2);
  BOOST_TEST(fs::exists(metrics / "oos_worker_host:111.prom"));

  auto r = cleanup({"--json"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(json::parse(r.out)["stale_textfiles"] == 2);
  BOOST_TEST(!fs::exists(metrics / "oos_worker_host:111.prom"));
  BOOST_TEST(!fs::exists(metrics / "oos_worker_silent.prom"));
  for (const char* kept :
       {"oos_worker_host:222.prom", "oos_worker_stuck-writer.prom", "oos_queue.prom", "oos_worker_notes.txt"})
    BOOST_TEST(fs::exists(metrics / kept), kept);
  bool logged = false;
  for (const auto& f : fs::directory_iterator(state_dir() / "cleanup_logs")) {
    std::ifstream in(f.path());
    for (std::string line; std::getline(in, line);)
      logged = logged || (line.find("oos_worker_host:111.prom") != std::string::npos &&
                          line.find("textfile of a worker gone") != std::string::npos);
  }
  BOOST_TEST(logged);
}

BOOST_AUTO_TEST_SUITE_END()
