#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <thread>

#include "backup/backup.hpp"
#include "error.hpp"
#include "queue/sqlite_task_store.hpp"
#include "store_fixture.hpp"
#include "util/sha256.hpp"

using namespace oos;
using namespace oos::backup;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_SUITE(backup)

namespace {

constexpr util::UnixMillis k_noon = 1'795'867'200'000;  // 2026-11-28T12:00:00Z

void overwrite(const fs::path& file, std::streamoff offset, const std::string& bytes) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(offset);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void touch(const fs::path& file) {
  std::ofstream(file) << "partial";
}

// The files a create killed at `time` leaves: its temporary copy with SQLite's companions and the manifest.
std::vector<fs::path> plant_orphans(const fs::path& dir, util::UnixMillis time) {
  fs::create_directories(dir);
  std::vector<fs::path> files;
  for (const char* suffix : {"", "-journal", "-wal", "-shm", ".manifest"}) {
    files.push_back(dir / ("." + backup_name(time) + ".tmp" + suffix));
    touch(files.back());
  }
  return files;
}

// `count` tasks of type "big" with a payload of about 2 KB each: a database of several backup copy steps.
std::vector<queue::NewTask> big_tasks(std::size_t count) {
  std::vector<queue::NewTask> big(count);
  for (auto& t : big) {
    t.type = "big";
    t.payload = std::string(R"({"pad":")") + std::string(2000, 'x') + "\"}";
  }
  return big;
}

}  // namespace

BOOST_AUTO_TEST_CASE(names_round_trip_and_other_names_are_not_backups) {
  BOOST_TEST(backup_name(k_noon) == "oos-20261128T120000Z.db");
  BOOST_TEST(*parse_backup_name("oos-20261128T120000Z.db") == k_noon);
  for (const char* other : {"oos.db", "oos-20261128T120000Z.db.manifest.json", ".oos-20261128T120000Z.db.tmp",
                            "oos-20261128T1200Z.db", "oos-2026112xT120000Z.db", "oos-20261128T120000.db"})
    BOOST_TEST_CONTEXT(other) {
      BOOST_TEST(!parse_backup_name(other));
    }
}

// A manifest is read back from disk: nested 100k deep anywhere, it is not valid rather than a crash.
BOOST_AUTO_TEST_CASE(a_manifest_nested_100k_deep_is_not_valid) {
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  std::string deep_object;
  for (int i = 0; i < 100'000; ++i) deep_object += R"({"file":)";
  deep_object += "1" + std::string(100'000, '}');
  for (const auto& text :
       {deep, deep_object, R"({"file":)" + deep + "}", R"({"file":"a","sha256":)" + deep_object + "}"})
    BOOST_TEST(!parse_manifest(text).has_value());
}

BOOST_FIXTURE_TEST_CASE(a_backup_is_a_verified_copy_with_its_manifest, test::StoreFixture) {
  for (int i = 0; i < 5; ++i) add();
  auto created = create_backup(*db, dir / "backups", k_noon);
  BOOST_TEST(created.path == dir / "backups" / "oos-20261128T120000Z.db");
  BOOST_TEST(created.manifest.tasks == 5);
  BOOST_TEST(created.manifest.size == fs::file_size(created.path));
  BOOST_TEST(created.manifest.sha256.size() == 64u);
  BOOST_TEST(fs::exists(manifest_path(created.path)));
  BOOST_TEST(!fs::exists(fs::path(created.path.string() + "-wal")));  // a plain file, journal mode DELETE
  auto v = verify_backup(created.path);
  BOOST_TEST(v.ok, v.problem);
  BOOST_TEST(v.manifest->tasks == 5);
  // Nothing else is left in the directory: no temporary files.
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir / "backups")) ++files;
  BOOST_TEST(files == 2);
}

// What a progress line shows of a create and a verify (docs/reference.md, "Progress on a terminal"): the copy by
// bytes up to the database's size, the integrity check by time, the checksum by bytes up to the file's size.
BOOST_FIXTURE_TEST_CASE(create_and_verify_report_their_stages_with_their_measures, test::StoreFixture) {
  tasks.enqueue_batch(big_tasks(3000));  // about 6 MB: several copy steps
  std::vector<util::ProgressReport> reports;
  std::vector<std::string> stages;
  auto record = [&](const util::ProgressReport& r) {
    reports.push_back(r);
    if (stages.empty() || stages.back() != r.stage) stages.emplace_back(r.stage);
  };
  auto created = create_backup(*db, dir / "backups", k_noon, record);
  BOOST_TEST(stages == (std::vector<std::string>{"copy", "integrity check", "checksum"}),
             boost::test_tools::per_element());
  auto copies = std::ranges::count_if(reports, [](const auto& r) { return r.stage == "copy"; });
  BOOST_TEST(copies > 1);
  const auto& last_copy = reports[static_cast<std::size_t>(copies) - 1];
  BOOST_TEST(last_copy.total.has_value());
  BOOST_TEST(last_copy.done == *last_copy.total);
  BOOST_TEST(*last_copy.total == created.manifest.size);                     // the pages' bytes: the copy's size
  BOOST_TEST(!reports[static_cast<std::size_t>(copies)].total.has_value());  // the check: time only
  BOOST_TEST(reports.back().done == created.manifest.size);
  BOOST_TEST(*reports.back().total == created.manifest.size);

  stages.clear();
  BOOST_TEST(verify_backup(created.path, record).ok);
  BOOST_TEST(stages == (std::vector<std::string>{"checksum", "integrity check"}), boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(verify_rejects_a_changed_file_a_missing_manifest_and_a_corrupt_copy, test::StoreFixture) {
  add();
  auto created = create_backup(*db, dir / "backups", k_noon);
  auto copy = dir / "backups" / "oos-20261128T130000Z.db";
  fs::copy_file(created.path, copy);

  overwrite(created.path, 5000, "garbage");
  auto changed = verify_backup(created.path);
  BOOST_TEST(!changed.ok);
  BOOST_TEST(changed.problem.find("SHA-256 differs") != std::string::npos, changed.problem);

  auto unlisted = verify_backup(copy);  // no manifest beside it
  BOOST_TEST(!unlisted.ok);
  BOOST_TEST(unlisted.problem.find("no manifest") != std::string::npos, unlisted.problem);

  // A manifest that matches a corrupt file (as if it had been corrupt when hashed): the integrity check
  // catches it.
  for (int page = 1; page < 6; ++page) overwrite(copy, page * 4096, std::string(16, '\xff'));  // page headers
  auto manifest = created.manifest;
  manifest.file = copy.filename().string();
  manifest.size = fs::file_size(copy);
  manifest.sha256 = *util::sha256_file(copy);
  std::ofstream(manifest_path(copy)) << to_json(manifest);
  auto corrupt = verify_backup(copy);
  BOOST_TEST(!corrupt.ok);
  BOOST_TEST(corrupt.problem.find("SHA-256") == std::string::npos, corrupt.problem);
}

BOOST_FIXTURE_TEST_CASE(a_second_backup_in_the_same_second_is_refused_and_the_first_is_kept, test::StoreFixture) {
  add();
  auto first = create_backup(*db, dir / "backups", k_noon);
  auto sha = first.manifest.sha256;
  add();
  BOOST_CHECK_THROW(create_backup(*db, dir / "backups", k_noon + 500), Error);
  BOOST_TEST(verify_backup(first.path).ok);
  BOOST_TEST(verify_backup(first.path).manifest->sha256 == sha);
}

BOOST_FIXTURE_TEST_CASE(a_backup_completes_while_another_connection_keeps_writing, test::StoreFixture) {
  tasks.enqueue_batch(big_tasks(5000));  // about 10 MB: several copy steps
  std::atomic<bool> stop{false};
  std::atomic<int> writes{0};
  std::thread writer([&] {
    auto other = open();
    queue::SqliteTaskStore store(*other, config, clock, *logger);
    while (!stop) {
      queue::NewTask t;
      t.type = "w";
      t.payload = std::string(R"({"pad":")") + std::string(2000, 'x') + "\"}";
      store.enqueue(t);
      ++writes;
    }
  });
  auto created = create_backup(*db, dir / "backups", k_noon);
  stop = true;
  writer.join();
  BOOST_TEST(writes > 0);
  BOOST_TEST(verify_backup(created.path).ok);
  BOOST_TEST(created.manifest.tasks >= 5000);
  BOOST_TEST_MESSAGE("copy: " << created.copy.steps << " steps, " << created.copy.restarts << " restarts, held "
                              << created.copy.held_read_transaction);
}

BOOST_FIXTURE_TEST_CASE(prune_deletes_what_the_policy_does_not_keep_and_dry_run_deletes_nothing, test::StoreFixture) {
  add();
  for (int h = 0; h < 5; ++h) create_backup(*db, dir / "backups", k_noon + h * 3'600'000);
  auto dry = prune_backups(dir / "backups", {2, 0, 0}, DryRun::yes);
  BOOST_TEST(dry.deleted.size() == 3u);
  BOOST_TEST(list_backups(dir / "backups").size() == 5u);
  auto done = prune_backups(dir / "backups", {2, 0, 0}, DryRun::no);
  BOOST_TEST(done.deleted.size() == 3u);
  auto left = list_backups(dir / "backups");
  BOOST_REQUIRE(left.size() == 2u);
  BOOST_TEST(left[0].created == k_noon + 4 * 3'600'000);  // the newest two
  BOOST_TEST(left[1].created == k_noon + 3 * 3'600'000);
  for (const auto& d : done.deleted) BOOST_TEST(!fs::exists(manifest_path(d)));
}

BOOST_FIXTURE_TEST_CASE(create_and_prune_remove_the_temporary_files_of_killed_creates_only, test::StoreFixture) {
  add();
  auto backups = dir / "backups";
  auto orphans = plant_orphans(backups, k_noon - 3'600'000);
  // A create still running: it holds the lock on its temporary file.
  auto running = plant_orphans(backups, k_noon - 60'000);
  int held = ::open(running[0].c_str(), O_RDONLY | O_CLOEXEC);
  BOOST_REQUIRE(held >= 0);
  BOOST_REQUIRE(::flock(held, LOCK_EX) == 0);
  // Names that only look alike are not touched.
  for (const char* other : {".oos-notes.db.tmp", ".oos-20261128T120000Z.db.tmp-other", "notes.txt"})
    touch(backups / other);

  auto created = create_backup(*db, backups, k_noon);
  std::sort(created.orphans_removed.begin(), created.orphans_removed.end());
  std::sort(orphans.begin(), orphans.end());
  BOOST_TEST(created.orphans_removed == orphans, boost::test_tools::per_element());
  for (const auto& f : orphans) BOOST_TEST(!fs::exists(f), f);
  for (const auto& f : running) BOOST_TEST(fs::exists(f), f);
  for (const char* other : {".oos-notes.db.tmp", ".oos-20261128T120000Z.db.tmp-other", "notes.txt"})
    BOOST_TEST(fs::exists(backups / other), other);

  // Once that create is gone (killed: its lock went with it), prune removes its files; a dry run only reports.
  ::close(held);
  auto dry = prune_backups(backups, {10, 0, 0}, DryRun::yes);
  BOOST_TEST(dry.orphans_removed.size() == running.size());
  for (const auto& f : running) BOOST_TEST(fs::exists(f), f);
  auto pruned = prune_backups(backups, {10, 0, 0}, DryRun::no);
  BOOST_TEST(pruned.orphans_removed.size() == running.size());
  for (const auto& f : running) BOOST_TEST(!fs::exists(f), f);
  BOOST_TEST(verify_backup(created.path).ok);
}

BOOST_FIXTURE_TEST_CASE(the_copy_aside_of_a_restore_is_written_under_a_temporary_name_and_renamed, test::StoreFixture) {
  add();
  auto created = create_backup(*db, dir / "backups", k_noon);
  add();
  // A copy aside that cannot be written (a directory holds its temporary name): nothing under the final
  // name, nothing restored.
  auto blocked = dir / ".oos.db.pre-restore-20261128T130000Z.tmp";
  fs::create_directory(blocked);
  touch(blocked / "keeps-it");
  BOOST_CHECK_THROW(restore_backup(*db, created.path, k_noon + 3'600'000), Error);
  BOOST_TEST(!fs::exists(dir / "oos.db.pre-restore-20261128T130000Z"));
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 2);
  fs::remove_all(blocked);

  auto restored = restore_backup(*db, created.path, k_noon + 3'600'000);
  BOOST_TEST(restored.kept_aside == dir / "oos.db.pre-restore-20261128T130000Z");
  BOOST_TEST(fs::exists(restored.kept_aside));
  for (const auto& e : fs::directory_iterator(dir / ""))
    BOOST_TEST(!e.path().filename().string().ends_with(".tmp"), e.path());
}

// The backup.restored event is written with the restored content, in the same step: a restore that cannot
// record its event restores nothing (before, the content was committed first and the event could be lost, as a
// kill between the two steps lost it).
BOOST_FIXTURE_TEST_CASE(a_restore_whose_event_cannot_be_recorded_leaves_the_database_as_it_was, test::StoreFixture) {
  add();
  // A sound backup in which nothing can be added to the events table.
  db->raw().exec("CREATE TRIGGER refuse_events BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'refused'); END");
  auto created = create_backup(*db, dir / "backups", k_noon);
  db->raw().exec("DROP TRIGGER refuse_events");
  add();

  // One line naming the staged copy and SQLite's cause, saying that nothing was restored and what to do.
  BOOST_CHECK_EXCEPTION(restore_backup(*db, created.path, k_noon + 3'600'000), Error, [](const Error& e) {
    std::string message = e.what();
    return e.code() == ExitCode::io_error &&
           message.find(".oos.db.restore-20261128T130000Z.tmp") != std::string::npos &&
           message.find("refused") != std::string::npos && message.find("nothing was restored") != std::string::npos &&
           message.find("try again") != std::string::npos;
  });
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 2);  // not restored
  BOOST_TEST(sql_int("SELECT count(*) FROM sqlite_master WHERE name = 'refuse_events'") == 0);
  for (const auto& e : fs::directory_iterator(dir / ""))
    BOOST_TEST(!e.path().filename().string().ends_with(".tmp"), e.path());

  // A restore that succeeds carries its event in the restored content.
  db->raw().exec("DELETE FROM tasks WHERE id = (SELECT max(id) FROM tasks)");
  auto good = create_backup(*db, dir / "backups", k_noon + 60'000);
  add();
  auto restored = restore_backup(*db, good.path, k_noon + 7'200'000);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 1);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'backup.restored'") == 1);
}

BOOST_FIXTURE_TEST_CASE(the_temporary_files_of_killed_restores_are_removed_by_the_next_restore_create_and_prune,
                        test::StoreFixture) {
  add();
  auto backups = dir / "backups";
  auto created = create_backup(*db, backups, k_noon);
  // What restores killed midway leave beside the database: the copy aside and the staged backup, each with
  // SQLite's companions.
  auto plant = [&](const std::string& stamp) {
    std::vector<fs::path> files;
    for (const std::string kind : {".oos.db.pre-restore-", ".oos.db.restore-"})
      for (const char* suffix : {"", "-journal", "-wal", "-shm"}) {
        files.push_back(dir / (kind + stamp + ".tmp" + suffix));
        touch(files.back());
      }
    std::sort(files.begin(), files.end());
    return files;
  };
  auto killed = plant("20261128T110000Z");
  // Names that only look alike, and a finished copy aside, are not touched.
  std::vector<std::string> others{".oos.db.pre-restore-notatime.tmp", ".oos.db.restore-20261128T110000Z.tmp-other",
                                  "oos.db.pre-restore-20261128T100000Z", ".oos.db.tmp"};
  for (const auto& other : others) touch(dir / other);

  auto restored = restore_backup(*db, created.path, k_noon + 3'600'000);
  std::sort(restored.orphans_removed.begin(), restored.orphans_removed.end());
  BOOST_TEST(restored.orphans_removed == killed, boost::test_tools::per_element());
  for (const auto& other : others) BOOST_TEST(fs::exists(dir / other), other);

  // A restore still running holds the lock on its temporary file; once it is gone, create removes its files.
  auto running = plant("20261128T111500Z");
  std::vector<int> held;
  for (const auto& f : running)
    if (f.string().ends_with(".tmp")) {
      held.push_back(::open(f.c_str(), O_RDONLY | O_CLOEXEC));
      BOOST_REQUIRE(held.back() >= 0);
      BOOST_REQUIRE(::flock(held.back(), LOCK_EX) == 0);
    }
  auto another = create_backup(*db, backups, k_noon + 60'000);
  for (const auto& f : running) BOOST_TEST(fs::exists(f), f);
  for (int fd : held) ::close(fd);
  auto swept = create_backup(*db, backups, k_noon + 120'000);
  std::sort(swept.orphans_removed.begin(), swept.orphans_removed.end());
  BOOST_TEST(swept.orphans_removed == running, boost::test_tools::per_element());
  // And a sweep of the database's directory (what prune and oos-cleanup add) finds the next ones.
  auto more = plant("20261128T113000Z");
  BOOST_TEST(remove_orphaned_temporaries(dir / "", DryRun::yes).size() == more.size());
  for (const auto& f : more) BOOST_TEST(fs::exists(f), f);
  BOOST_TEST(remove_orphaned_temporaries(dir / "").size() == more.size());
  for (const auto& f : more) BOOST_TEST(!fs::exists(f), f);
  for (const auto& other : others) BOOST_TEST(fs::exists(dir / other), other);
}

BOOST_AUTO_TEST_SUITE_END()
