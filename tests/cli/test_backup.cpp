#include <boost/test/unit_test.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/cli_support.hpp"

using nlohmann::json;
using oos::test::CliFixture;
namespace fs = std::filesystem;

namespace {

oos::util::RunResult run_backup(CliFixture& f, std::vector<std::string> args) {
  std::vector<std::string> argv{oos::test::binary_from_env("OOS_BACKUP_BIN"), "--state-dir", f.state_dir().string(),
                                "--config", f.config_path().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return f.run(argv);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(backup)

BOOST_FIXTURE_TEST_CASE(create_list_verify_and_an_event_per_backup, CliFixture) {
  for (int i = 0; i < 3; ++i) BOOST_TEST_REQUIRE(queue({"enqueue", "default", "job"}).exit_code == 0);
  auto created = run_backup(*this, {"--json"});
  BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
  auto doc = json::parse(created.out);
  BOOST_TEST(doc["verified"] == true);
  BOOST_TEST(doc["tasks"] == 3);
  fs::path file = doc["path"].get<std::string>();
  BOOST_TEST(file.parent_path() == state_dir() / "backups");
  BOOST_TEST(fs::exists(file.string() + ".manifest.json"));
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'backup.created'") == 1);

  auto listed = run_backup(*this, {"list", "--json"});
  BOOST_TEST(listed.exit_code == 0, listed.err);
  BOOST_TEST(json::parse(listed.out)["verified"] == true);

  auto verified = run_backup(*this, {"verify"});
  BOOST_TEST(verified.exit_code == 0, verified.err);
  BOOST_TEST(verified.out.find(": ok (") != std::string::npos, verified.out);
}

BOOST_FIXTURE_TEST_CASE(a_changed_backup_fails_verify_with_65_and_one_line, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "default", "job"}).exit_code == 0);
  auto created = run_backup(*this, {"--json"});
  BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
  std::string file = json::parse(created.out)["path"];
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3000);
    f.write("tampered", 8);
  }
  auto r = run_backup(*this, {"verify", file});
  BOOST_TEST(r.exit_code == 65);
  BOOST_TEST(oos::test::is_one_error_line(r.err, "oos-backup"), r.err);
  BOOST_TEST(r.err.find("SHA-256 differs") != std::string::npos, r.err);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'backup.verify_failed'") == 1);
}

BOOST_FIXTURE_TEST_CASE(verify_without_backups_or_of_a_missing_file_is_66, CliFixture) {
  auto none = run_backup(*this, {"verify"});
  BOOST_TEST(none.exit_code == 66);
  BOOST_TEST(oos::test::is_one_error_line(none.err, "oos-backup"), none.err);
  auto missing = run_backup(*this, {"verify", (dir() / "nope.db").string()});
  BOOST_TEST(missing.exit_code == 66);
}

BOOST_FIXTURE_TEST_CASE(prune_keeps_keep_last_and_dry_run_deletes_nothing, CliFixture) {
  write_config("[backup]\nkeep_last = 1\nkeep_daily = 0\nkeep_weekly = 0\n");
  BOOST_TEST_REQUIRE(queue({"enqueue", "default", "job"}).exit_code == 0);
  // Two backups a second apart (names have one-second resolution; a second one in the same second is refused).
  BOOST_TEST_REQUIRE(run_backup(*this, {}).exit_code == 0);
  auto again = run_backup(*this, {});
  if (again.exit_code == 75) {
    BOOST_TEST(again.err.find("already exists") != std::string::npos, again.err);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    again = run_backup(*this, {});
  }
  BOOST_TEST_REQUIRE(again.exit_code == 0, again.err);
  auto dry = run_backup(*this, {"prune", "--dry-run", "--json"});
  BOOST_TEST(dry.exit_code == 0, dry.err);
  BOOST_TEST(json::parse(dry.out)["deleted"].size() == 1u);
  auto before = std::distance(fs::directory_iterator(state_dir() / "backups"), fs::directory_iterator());
  BOOST_TEST(before == 4);  // two backups and their manifests
  auto done = run_backup(*this, {"prune"});
  BOOST_TEST(done.exit_code == 0, done.err);
  auto after = std::distance(fs::directory_iterator(state_dir() / "backups"), fs::directory_iterator());
  BOOST_TEST(after == 2);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'backup.pruned'") == 1);
}

BOOST_AUTO_TEST_SUITE_END()
