#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "backup/backup.hpp"
#include "error.hpp"
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
  std::vector<queue::NewTask> big(5000);  // about 10 MB: several copy steps
  for (auto& t : big) {
    t.type = "big";
    t.payload = std::string(R"({"pad":")") + std::string(2000, 'x') + "\"}";
  }
  tasks.enqueue_batch(big);
  std::atomic<bool> stop{false};
  std::atomic<int> writes{0};
  std::thread writer([&] {
    auto other = open();
    queue::TaskStore store(*other, config, clock, *logger);
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

BOOST_AUTO_TEST_SUITE_END()
