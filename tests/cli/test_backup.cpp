#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/cli_support.hpp"

using nlohmann::json;
using oos::test::CliFixture;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_SUITE(backup)

BOOST_FIXTURE_TEST_CASE(create_list_verify_and_an_event_per_backup, CliFixture) {
  for (int i = 0; i < 3; ++i) BOOST_TEST_REQUIRE(queue({"enqueue", "default", "job"}).exit_code == 0);
  auto created = backup({"--json"});
  BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
  auto doc = json::parse(created.out);
  BOOST_TEST(doc["verified"] == true);
  BOOST_TEST(doc["tasks"] == 3);
  fs::path file = doc["path"].get<std::string>();
  BOOST_TEST(file.parent_path() == state_dir() / "backups");
  BOOST_TEST(fs::exists(file.string() + ".manifest.json"));
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'backup.created'") == 1);

  auto listed = backup({"list", "--json"});
  BOOST_TEST(listed.exit_code == 0, listed.err);
  BOOST_TEST(json::parse(listed.out)["verified"] == true);

  auto verified = backup({"verify"});
  BOOST_TEST(verified.exit_code == 0, verified.err);
  BOOST_TEST(verified.out.find(": ok (") != std::string::npos, verified.out);
}

BOOST_FIXTURE_TEST_CASE(a_changed_backup_fails_verify_with_65_and_one_line, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "default", "job"}).exit_code == 0);
  auto created = backup({"--json"});
  BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
  std::string file = json::parse(created.out)["path"];
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3000);
    f.write("tampered", 8);
  }
  auto r = backup({"verify", file});
  BOOST_TEST(r.exit_code == 65);
  BOOST_TEST(oos::test::is_one_error_line(r.err, "oos-backup"), r.err);
  BOOST_TEST(r.err.find("SHA-256 differs") != std::string::npos, r.err);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'backup.verify_failed'") == 1);
}

BOOST_FIXTURE_TEST_CASE(verify_without_backups_or_of_a_missing_file_is_66, CliFixture) {
  auto none = backup({"verify"});
  BOOST_TEST(none.exit_code == 66);
  BOOST_TEST(oos::test::is_one_error_line(none.err, "oos-backup"), none.err);
  auto missing = backup({"verify", (dir() / "nope.db").string()});
  BOOST_TEST(missing.exit_code == 66);
}

BOOST_FIXTURE_TEST_CASE(prune_keeps_keep_last_and_dry_run_deletes_nothing, CliFixture) {
  write_config("[backup]\nkeep_last = 1\nkeep_daily = 0\nkeep_weekly = 0\n");
  BOOST_TEST_REQUIRE(queue({"enqueue", "default", "job"}).exit_code == 0);
  // Two backups a second apart (names have one-second resolution; a second one in the same second is refused).
  BOOST_TEST_REQUIRE(backup({}).exit_code == 0);
  auto again = backup({});
  if (again.exit_code == 75) {
    BOOST_TEST(again.err.find("already exists") != std::string::npos, again.err);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    again = backup({});
  }
  BOOST_TEST_REQUIRE(again.exit_code == 0, again.err);
  auto dry = backup({"prune", "--dry-run", "--json"});
  BOOST_TEST(dry.exit_code == 0, dry.err);
  BOOST_TEST(json::parse(dry.out)["deleted"].size() == 1u);
  auto before = std::distance(fs::directory_iterator(state_dir() / "backups"), fs::directory_iterator());
  BOOST_TEST(before == 4);  // two backups and their manifests
  auto done = backup({"prune"});
  BOOST_TEST(done.exit_code == 0, done.err);
  auto after = std::distance(fs::directory_iterator(state_dir() / "backups"), fs::directory_iterator());
  BOOST_TEST(after == 2);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'backup.pruned'") == 1);
}

BOOST_FIXTURE_TEST_CASE(restore_latest_skips_a_backup_that_does_not_verify_and_keeps_the_old_database_aside,
                        CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "default", "job"}).exit_code == 0);
  auto good = backup({"--json"});
  BOOST_TEST_REQUIRE(good.exit_code == 0, good.err);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  BOOST_TEST_REQUIRE(queue({"enqueue", "default", "job"}).exit_code == 0);
  auto newer = backup({"--json"});
  BOOST_TEST_REQUIRE(newer.exit_code == 0, newer.err);
  {
    std::fstream f(json::parse(newer.out)["path"].get<std::string>(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3000);
    f.write("tampered", 8);
  }
  BOOST_TEST_REQUIRE(queue({"enqueue", "default", "job"}).exit_code == 0);  // 3 tasks now

  // A named backup that does not verify: 65, nothing changed.
  auto refused = backup({"restore", json::parse(newer.out)["path"].get<std::string>()});
  BOOST_TEST(refused.exit_code == 65);
  BOOST_TEST(refused.err.find("nothing was restored") != std::string::npos, refused.err);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 3);

  auto restored = backup({"restore", "--latest", "--json"});
  BOOST_TEST_REQUIRE(restored.exit_code == 0, restored.err);
  auto doc = json::parse(restored.out);
  BOOST_TEST(doc["restored"] == json::parse(good.out)["path"]);  // the older, good one
  BOOST_TEST(restored.err.find("skipped") != std::string::npos, restored.err);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 1);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'backup.restored'") == 1);
  fs::path aside = doc["kept_aside"].get<std::string>();
  BOOST_TEST(aside.parent_path() == state_dir());
  BOOST_TEST(aside.filename().string().starts_with("oos.db.pre-restore-"));
  BOOST_TEST(fs::exists(aside));
  // Tools keep working on the restored database.
  BOOST_TEST(queue({"status"}).exit_code == 0);
}

BOOST_FIXTURE_TEST_CASE(a_create_killed_midway_leaves_temporary_files_that_the_next_create_removes, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "default", "job"}).exit_code == 0);
  // 64 MiB of filler so that the copy takes a while.
  sql_exec(
      "CREATE TABLE filler(b BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 256) "
      "INSERT INTO filler SELECT randomblob(262144) FROM n;");
  auto backups = state_dir() / "backups";
  auto temporaries = [&] {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(backups, ec))
      if (e.path().filename().string().starts_with(".oos-")) out.push_back(e.path());
    return out;
  };
  auto creating = start("OOS_BACKUP_BIN", {});
  bool copying = false;
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
       !copying && std::chrono::steady_clock::now() < until;)
    copying = !temporaries().empty();
  creating->signal(SIGKILL);
  BOOST_TEST(creating->wait(std::chrono::seconds(10)) == 128 + SIGKILL);
  BOOST_TEST_REQUIRE(copying);
  auto orphans = temporaries();
  BOOST_TEST_REQUIRE(!orphans.empty());

  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // another second, another backup name
  auto next = backup({});
  BOOST_TEST_REQUIRE(next.exit_code == 0, next.err);
  BOOST_TEST(temporaries().empty());
  for (const auto& f : orphans)
    BOOST_TEST(next.err.find("removed the orphaned temporary file " + f.string()) != std::string::npos, next.err);
}

BOOST_FIXTURE_TEST_CASE(prune_removes_the_temporary_files_of_a_killed_create, CliFixture) {
  auto backups = state_dir() / "backups";
  fs::create_directories(backups);
  std::vector<fs::path> orphans;
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
    orphans.push_back(backups / (std::string(".oos-20261128T120000Z.db.tmp") + suffix));
    std::ofstream(orphans.back()) << "partial";
  }
  auto dry = backup({"prune", "--dry-run"});
  BOOST_TEST(dry.exit_code == 0, dry.err);
  for (const auto& f : orphans) BOOST_TEST(fs::exists(f));
  auto done = backup({"prune"});
  BOOST_TEST(done.exit_code == 0, done.err);
  for (const auto& f : orphans) BOOST_TEST(!fs::exists(f), f);
}

namespace {
unsigned mode_of(const fs::path& file) {
  struct stat st {};
  BOOST_TEST_REQUIRE(::stat(file.c_str(), &st) == 0, file);
  return st.st_mode & 07777;
}
}  // namespace

BOOST_FIXTURE_TEST_CASE(the_database_backups_manifests_copies_aside_and_cleanup_logs_are_0600_under_umask_022,
                        CliFixture) {
  auto previous = ::umask(022);  // the tools inherit it
  BOOST_TEST_REQUIRE(queue({"enqueue", "default", "job"}).exit_code == 0);
  auto created = backup({"--json"});
  BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
  fs::path file = json::parse(created.out)["path"].get<std::string>();
  auto restored = backup({"restore", file.string(), "--json"});
  BOOST_TEST_REQUIRE(restored.exit_code == 0, restored.err);
  auto cleaned = cleanup({});
  BOOST_TEST_REQUIRE(cleaned.exit_code == 0, cleaned.err);
  ::umask(previous);

  std::vector<fs::path> files{db_path(), file, file.string() + ".manifest.json",
                              json::parse(restored.out)["kept_aside"].get<std::string>()};
  for (const char* suffix : {"-wal", "-shm"})
    if (fs::exists(db_path().string() + suffix)) files.push_back(db_path().string() + suffix);
  for (const auto& e : fs::directory_iterator(state_dir() / "cleanup_logs")) files.push_back(e.path());
  BOOST_TEST(files.size() >= 5u);
  for (const auto& f : files) BOOST_TEST(mode_of(f) == 0600u, f);
}

BOOST_FIXTURE_TEST_CASE(restore_needs_a_file_or_latest_and_fails_69_without_a_good_backup, CliFixture) {
  auto usage = backup({"restore"});
  BOOST_TEST(usage.exit_code == 64);
  BOOST_TEST(oos::test::is_one_error_line(usage.err, "oos-backup"), usage.err);
  auto none = backup({"restore", "--latest"});
  BOOST_TEST(none.exit_code == 69);
  BOOST_TEST(oos::test::is_one_error_line(none.err, "oos-backup"), none.err);
}

// The acceptance case: a backup taken while 4 workers run tasks and a producer keeps enqueueing completes,
// verifies, and the restored copy is consistent (its status counters agree with its rows).
BOOST_FIXTURE_TEST_CASE(a_backup_under_four_workers_and_a_producer_verifies_and_restores_consistently, CliFixture) {
  using namespace std::chrono_literals;
  write_config("[log]\nlevel = \"warn\"\n\n[worker]\npoll_interval = \"50ms\"\n\n" +
               oos::test::handler_toml("noop", "/bin/true"));
  std::string batch;
  for (int i = 0; i < 500; ++i) batch += R"({"type":"noop","data":{"pad":")" + std::string(1000, 'x') + "\"}}\n";
  BOOST_TEST_REQUIRE(queue({"enqueue", "default", "--batch"}, batch).exit_code == 0);
  std::vector<std::unique_ptr<oos::test::BackgroundProcess>> workers;
  std::vector<oos::test::BackgroundProcess*> pumped;
  for (int i = 1; i <= 4; ++i) {
    workers.push_back(start_worker({"--name", "w" + std::to_string(i)}));
    pumped.push_back(workers.back().get());
  }
  auto producer_script = write_script(
      "producer", "i=0; while [ $i -lt 200 ]; do \"$OOS_QUEUE_BIN\" --state-dir '" + state_dir().string() +
                      "' --config '" + config_path().string() +
                      "' enqueue default noop --data \"{\\\"i\\\":$i}\" >/dev/null || exit 1; i=$((i+1)); done");
  oos::test::BackgroundProcess producer({producer_script.string()}, oos::test::test_environment({}));
  pumped.push_back(&producer);
  BOOST_TEST_REQUIRE(oos::test::eventually(
      [&] { return sql_int("SELECT count(*) FROM tasks WHERE status = 'succeeded'") > 50; }, 30s, pumped));

  auto created = backup({"--json"});
  BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
  std::string file = json::parse(created.out)["path"];
  BOOST_TEST(producer.wait(oos::test::scaled(60s)) == 0, producer.err());
  for (auto& w : workers) w->signal(SIGTERM);
  for (auto& w : workers) BOOST_TEST(w->wait(oos::test::scaled(10s)) == 0, w->err());
  BOOST_TEST(backup({"verify", file}).exit_code == 0);

  // Restore it into the live state directory and compare what status reports with the rows.
  auto restored = backup({"restore", file});
  BOOST_TEST_REQUIRE(restored.exit_code == 0, restored.err);
  auto status = json::parse(queue({"status", "--json"}).out);
  auto row = status.is_array() ? status[0] : status["queues"][0];
  for (const char* state : {"pending", "running", "succeeded", "dead", "cancelled"}) BOOST_TEST_CONTEXT(state) {
      BOOST_TEST(row[state].get<long long>() ==
                 sql_int(std::string("SELECT count(*) FROM tasks WHERE status = '") + state + "'"));
    }
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") >= 500);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'running'") <= 4);
}

BOOST_AUTO_TEST_SUITE_END()
