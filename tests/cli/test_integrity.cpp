#include <boost/test/unit_test.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "cli/cli_support.hpp"
#include "util/file_lock.hpp"

using nlohmann::json;
using oos::test::CliFixture;
namespace fs = std::filesystem;

namespace {

// 200 tasks with 3 KB payloads: about 200 pages, so the middle of the file is task data.
void fill(CliFixture& f, int tasks = 200) {
  std::string lines;
  for (int i = 0; i < tasks; ++i) lines += R"({"type":"job","data":{"pad":")" + std::string(3000, 'x') + "\"}}\n";
  BOOST_TEST_REQUIRE(f.queue({"enqueue", "default", "--batch"}, lines).exit_code == 0);
}

std::string bytes_of(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(integrity)

BOOST_FIXTURE_TEST_CASE(a_healthy_database_checks_ok_and_records_an_event, CliFixture) {
  fill(*this, 5);
  auto r = integrity({"--json"});
  BOOST_TEST(r.exit_code == 0, r.err);
  auto doc = json::parse(r.out);
  BOOST_TEST(doc["ok"] == true);
  BOOST_TEST(doc["vacuumed"] == false);
  BOOST_TEST(integrity({"check", "--quick"}).exit_code == 0);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'integrity.ok'") == 2);
}

BOOST_FIXTURE_TEST_CASE(a_corrupt_database_is_recovered_from_the_newest_good_backup, CliFixture) {
  fill(*this);
  auto older = backup({"--json"});
  BOOST_TEST_REQUIRE(older.exit_code == 0, older.err);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto newer = backup({"--json"});
  BOOST_TEST_REQUIRE(newer.exit_code == 0, newer.err);
  oos::test::corrupt_pages(json::parse(newer.out)["path"].get<std::string>());  // the newest backup is bad too
  oos::test::corrupt_pages(db_path());

  auto status = queue({"list", "default", "--limit", "1000"});
  BOOST_TEST(status.exit_code == 74);
  BOOST_TEST(status.err.find("oos-integrity") != std::string::npos, status.err);

  auto r = integrity({"--json"});
  BOOST_TEST(r.exit_code == 1, r.err);
  auto doc = json::parse(r.out);
  BOOST_TEST(doc["repaired"] == true);
  BOOST_TEST(doc["restored_from"] == json::parse(older.out)["path"]);
  BOOST_TEST(r.err.find("skipped") != std::string::npos, r.err);
  fs::path quarantine = doc["quarantine"].get<std::string>();
  BOOST_TEST(fs::exists(quarantine / "oos.db"));
  BOOST_TEST(queue({"status"}).exit_code == 0);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 200);
  BOOST_TEST(sql_text("SELECT detail FROM events WHERE kind = 'integrity.recovered'")
                 .find(fs::path(json::parse(older.out)["path"].get<std::string>()).filename().string()) !=
             std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(a_database_that_fails_to_open_is_recovered_too, CliFixture) {
  fill(*this, 10);
  BOOST_TEST_REQUIRE(backup({}).exit_code == 0);
  {
    std::fstream f(db_path(), std::ios::in | std::ios::out | std::ios::binary);
    f.write("this is no longer a database", 28);  // the header: SQLITE_NOTADB on open
  }
  auto status = queue({"status"});
  BOOST_TEST(status.exit_code == 74);
  BOOST_TEST(oos::test::is_one_error_line(status.err), status.err);
  BOOST_TEST(status.err.find("oos-integrity") != std::string::npos, status.err);

  auto r = integrity({});
  BOOST_TEST(r.exit_code == 1, r.err);
  BOOST_TEST(queue({"status"}).exit_code == 0);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 10);
}

BOOST_FIXTURE_TEST_CASE(checks_run_one_at_a_time, CliFixture) {
  fill(*this, 10);
  auto acquired = oos::util::FileLock::acquire(state_dir() / "integrity.lock");
  BOOST_TEST_REQUIRE(acquired.has_value());
  std::optional<oos::util::FileLock> held(std::move(*acquired));
  auto waiting = start("OOS_INTEGRITY_BIN", {"--quick"});
  BOOST_TEST(waiting->wait(oos::test::scaled(std::chrono::milliseconds(1500))) == -1);  // still waiting
  held.reset();
  BOOST_TEST(waiting->wait(oos::test::scaled(std::chrono::seconds(10))) == 0, waiting->err());
  BOOST_TEST(waiting->out().find("ok:") != std::string::npos, waiting->out());
}

BOOST_FIXTURE_TEST_CASE(without_a_good_backup_it_quarantines_a_copy_changes_nothing_and_exits_2, CliFixture) {
  fill(*this);
  oos::test::corrupt_pages(db_path());
  auto before = bytes_of(db_path());
  auto reported = integrity({"--no-repair"});
  BOOST_TEST(reported.exit_code == 2, reported.err);
  BOOST_TEST(!fs::exists(state_dir() / "corrupt"));

  auto r = integrity({});
  BOOST_TEST(r.exit_code == 2, r.err);
  BOOST_TEST(r.err.find("no backup") != std::string::npos, r.err);
  BOOST_TEST(bytes_of(db_path()) == before);
  bool copied = false;
  for (const auto& dir : fs::directory_iterator(state_dir() / "corrupt"))
    copied = copied || bytes_of(dir.path() / "oos.db") == before;
  BOOST_TEST(copied);
}

BOOST_FIXTURE_TEST_CASE(fragmentation_above_the_threshold_is_vacuumed_and_the_file_shrinks, CliFixture) {
  write_config("[integrity]\nvacuum_threshold_percent = 25\n");
  fill(*this);
  sql_exec("DELETE FROM tasks WHERE id > 20");
  auto before = fs::file_size(db_path());
  auto r = integrity({"--json"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(json::parse(r.out)["vacuumed"] == true);
  BOOST_TEST(json::parse(r.out)["fragmentation_percent"].get<double>() > 25.0);
  BOOST_TEST(fs::file_size(db_path()) < before / 2);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 20);
}

// After a recovery the database file is a new one; a worker still holding the old one must not go on
// writing there unseen.
BOOST_FIXTURE_TEST_CASE(a_worker_exits_75_when_its_database_file_is_replaced, CliFixture) {
  using namespace std::chrono_literals;
  write_config("[queue]\nlease = \"1s\"\n\n[worker]\npoll_interval = \"50ms\"\n");
  create_database();
  auto worker = start_worker({});
  // Replace the file only once the worker has opened it (it logs "started" after opening the database).
  BOOST_TEST_REQUIRE(oos::test::eventually([&] { return worker->err().find("started on") != std::string::npos; },
                                           oos::test::scaled(10s), {worker.get()}),
                     worker->err());
  fs::copy_file(db_path(), dir() / "copy.db");
  fs::rename(dir() / "copy.db", db_path());
  int code = worker->wait(oos::test::scaled(10s));
  BOOST_TEST(code == 75, worker->err());
  BOOST_TEST(worker->err().find("was replaced on disk") != std::string::npos, worker->err());
}

// A recovery killed midway leaves its copy of the backup beside the database; the next check removes it (a
// running one holds its lock).
BOOST_FIXTURE_TEST_CASE(a_check_removes_the_copy_a_killed_recovery_left, CliFixture) {
  fill(*this, 10);
  auto orphan = state_dir() / ".oos.db.restore-20260101T000000Z.tmp";
  oos::test::write_file(orphan, "partial");
  oos::test::write_file(state_dir() / ".oos.db.restore-20260101T000000Z.tmp-journal", "partial");
  auto r = integrity({"check"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(!fs::exists(orphan));
  BOOST_TEST(!fs::exists(state_dir() / ".oos.db.restore-20260101T000000Z.tmp-journal"));
  BOOST_TEST(r.err.find("orphaned temporary file") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_SUITE_END()
