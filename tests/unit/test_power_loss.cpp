// Power loss: a recorded run of the real TaskStore, and the disk as a power cut at hundreds of points of it
// leaves it (support/crash_image.hpp has the model). In every image the database must open, pass
// integrity_check and hold every task whose enqueue had returned before the cut. docs/reliability.md,
// "Power loss", has the figures.
#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <random>
#include <set>

#include <unistd.h>

#include "backup/backup.hpp"
#include "config.hpp"
#include "db/database.hpp"
#include "log.hpp"
#include "queue/sqlite_task_store.hpp"
#include "support/crash_image.hpp"
#include "support/recording_dir.hpp"
#include "support/recording_vfs.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"
#include "util/time.hpp"

using namespace oos;
namespace fs = std::filesystem;
using test::CrashImages;
using test::DirEvent;
using test::FileOp;
using test::Unsynced;

BOOST_AUTO_TEST_SUITE(power_loss)

namespace {

constexpr util::UnixMillis k_start = 1'795'867'200'000;  // 2026-11-28T12:00:00Z
// Tasks enqueued by each of the two connections the workload opens in turn: the first writes enough WAL for a
// checkpoint of db::Database's (every 1000 pages) to run on the way.
constexpr std::array<int, 2> k_tasks_per_session{260, 60};
// Crash points drawn at random on top of the points around every sync.
constexpr std::size_t k_random_points = 150;

// Where the images are opened: a tmpfs when there is one, so that SQLite's fsyncs there cost nothing (the
// images are checked, not their durability).
fs::path scratch_parent() {
  std::error_code ec;
  return fs::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0 ? fs::path("/dev/shm")
                                                                             : fs::temp_directory_path();
}

struct Acknowledged {
  queue::TaskId id = 0;
  std::size_t position = 0;  // in the recording, when enqueue() returned
};

struct Recording {
  std::vector<FileOp> ops;
  std::vector<Acknowledged> acknowledged;
};

// The workload: enqueues through the real TaskStore, a claim and completion after every third, in two
// connections one after the other (the last close checkpoints and deletes the WAL; the next open starts a new
// one). Each enqueue's id is acknowledged at the position where enqueue() returned.
Recording record_workload(const fs::path& dir, config::Synchronous synchronous) {
  Recording recording;
  test::RecordingVfs vfs(dir);
  config::Config config;
  config.db.synchronous = synchronous;
  auto logger = log::Logger::discard();
  util::ManualClock clock(k_start);
  const std::array<std::string, 1> queues{"default"};
  const std::string padding(700, 'p');
  for (int session_tasks : k_tasks_per_session) {
    db::Database db({dir / "oos.db", synchronous, util::Millis(2000)});
    queue::SqliteTaskStore tasks(db, config, clock, *logger);
    for (int i = 0; i < session_tasks; ++i) {
      queue::NewTask task;
      task.type = "job";
      task.payload = fmt::format(R"({{"n":{},"padding":"{}"}})", i, padding);
      auto id = tasks.enqueue(task).id;
      recording.acknowledged.push_back({id, vfs.position()});
      clock.advance(10);
      if (i % 3 == 2)
        if (auto claimed = tasks.claim(queues, "worker-1")) tasks.complete(claimed->lease, R"({"ok":true})");
    }
  }
  recording.ops = vfs.ops();
  return recording;
}

std::size_t count_syncs(const std::vector<FileOp>& ops, const std::string& file) {
  return static_cast<std::size_t>(
      std::ranges::count_if(ops, [&](const FileOp& op) { return op.kind == FileOp::Kind::sync && op.file == file; }));
}

// Just before and just after every sync, the start, the end, and `random_points` drawn at random; in order.
std::vector<std::size_t> crash_points(const std::vector<FileOp>& ops, std::size_t random_points, std::mt19937& random) {
  std::set<std::size_t> points{0, ops.size()};
  for (std::size_t i = 0; i < ops.size(); ++i)
    if (ops[i].kind == FileOp::Kind::sync) points.insert({i, i + 1});
  std::uniform_int_distribution<std::size_t> anywhere(0, ops.size());
  for (std::size_t i = 0; i < random_points; ++i) points.insert(anywhere(random));
  return {points.begin(), points.end()};
}

struct Figures {
  int images = 0;
  int unsound = 0;                    // did not open, or failed integrity_check
  int images_losing = 0;              // lost at least one acknowledged task
  int tasks_lost = 0;                 // over all images
  int most_lost = 0;                  // in one image
  std::vector<std::string> problems;  // the first few, for the failure message
};

void note(Figures& figures, std::string problem) {
  if (figures.problems.size() < 5) figures.problems.push_back(std::move(problem));
}

// Writes each image into a fresh directory and opens it with the normal code (no recording VFS).
Figures check_images(const Recording& recording, const std::vector<std::size_t>& points, Unsynced unsynced,
                     std::mt19937& random) {
  Figures figures;
  CrashImages images(recording.ops);
  for (auto point : points) {
    images.advance_to(point);
    test::TempDir dir(scratch_parent());
    for (const auto& [name, content] : images.image(unsynced, random)) test::write_file(dir / name, content);
    ++figures.images;
    std::set<queue::TaskId> present;
    try {
      db::Database db({dir / "oos.db", config::Synchronous::full, util::Millis(2000)});
      auto integrity = db.raw().execAndGet("PRAGMA integrity_check").getString();
      if (integrity != "ok") {
        ++figures.unsound;
        note(figures, fmt::format("point {}: integrity_check: {}", point, integrity));
        continue;
      }
      SQLite::Statement ids(db.raw(), "SELECT id FROM tasks");
      while (ids.executeStep()) present.insert(ids.getColumn(0).getInt64());
    } catch (const std::exception& e) {
      ++figures.unsound;
      note(figures, fmt::format("point {}: does not open: {}", point, e.what()));
      continue;
    }
    int lost = 0;
    for (const auto& acked : recording.acknowledged)
      if (acked.position <= point && !present.contains(acked.id)) ++lost;
    if (lost == 0) continue;
    ++figures.images_losing;
    figures.tasks_lost += lost;
    figures.most_lost = std::max(figures.most_lost, lost);
    note(figures, fmt::format("point {} of {}: {} acknowledged tasks lost", point, recording.ops.size(), lost));
  }
  return figures;
}

std::string describe(const Figures& f) {
  auto text = fmt::format("{} images, {} unsound, {} losing acknowledged tasks ({} tasks in all, at most {} in one)",
                          f.images, f.unsound, f.images_losing, f.tasks_lost, f.most_lost);
  for (const auto& problem : f.problems) text += "\n  " + problem;
  return text;
}

// The backup part: the backup directory recorded through three creates (one complete backup already there).
struct BackupRecording {
  std::vector<DirEvent> events;
  std::map<std::string, std::string> complete;               // every backup and manifest as the creates left them
  std::vector<std::pair<std::string, std::size_t>> created;  // a backup, the event at which its create returned
};

BackupRecording record_backups(const fs::path& state, const fs::path& backups) {
  BackupRecording recording;
  config::Config config;
  auto logger = log::Logger::discard();
  util::ManualClock clock(k_start);
  db::Database db({state / "oos.db", config::Synchronous::full, util::Millis(2000)});
  queue::SqliteTaskStore tasks(db, config, clock, *logger);
  auto enqueue = [&](int count) {
    for (int i = 0; i < count; ++i) {
      queue::NewTask task;
      task.type = "job";
      task.payload = fmt::format(R"({{"n":{},"padding":"{}"}})", i, std::string(500, 'p'));
      tasks.enqueue(task);
    }
  };
  enqueue(40);
  auto first = backup::create_backup(db, backups, k_start);
  recording.created.emplace_back(first.path.filename().string(), 0);
  {
    test::DirRecorder recorder(backups);
    for (int i = 1; i <= 3; ++i) {
      enqueue(40);
      auto created = backup::create_backup(db, backups, k_start + i * 60'000);
      recording.created.emplace_back(created.path.filename().string(), recorder.events().size() - 1);
    }
    recording.events = recorder.events();
  }
  for (const auto& entry : fs::directory_iterator(backups))
    recording.complete[entry.path().filename().string()] = util::read_file(entry.path()).value();
  return recording;
}

struct BackupFigures {
  int images = 0;
  int accepted = 0;          // backups that verified, over all images
  int refused = 0;           // backups listed that did not verify
  int wrongly_accepted = 0;  // verified, but not byte for byte a complete backup with its own manifest
  int lost = 0;              // a create had returned, yet its backup does not verify
  std::vector<std::string> problems;
};

std::string describe(const BackupFigures& f) {
  auto text = fmt::format("{} images, {} backups accepted, {} refused, {} wrongly accepted, {} lost", f.images,
                          f.accepted, f.refused, f.wrongly_accepted, f.lost);
  for (const auto& problem : f.problems) text += "\n  " + problem;
  return text;
}

// Every image a power cut after each event may leave (with each directory state it may find), checked with
// the library's own list_backups and verify_backup.
BackupFigures check_backup_images(const BackupRecording& recording) {
  BackupFigures figures;
  auto note_problem = [&](std::string problem) {
    if (figures.problems.size() < 5) figures.problems.push_back(std::move(problem));
  };
  const auto& events = recording.events;
  for (std::size_t crash = 0; crash < events.size(); ++crash) {
    auto last_entries = std::min(crash + 1, events.size() - 1);
    for (auto entries = test::first_possible_entries(events, crash); entries <= last_entries; ++entries) {
      auto image = test::dir_image(events, entries, crash);
      test::TempDir dir(scratch_parent());
      for (const auto& [name, content] : image) test::write_file(dir / name, content);
      ++figures.images;
      std::set<std::string> verified;
      for (const auto& entry : backup::list_backups(dir.path())) {
        auto name = entry.path.filename().string();
        if (!backup::verify_backup(entry.path).ok) {
          ++figures.refused;
          continue;
        }
        ++figures.accepted;
        verified.insert(name);
        auto manifest = backup::manifest_path(entry.path).filename().string();
        auto complete = recording.complete.find(name);
        if (complete == recording.complete.end() || image[name] != complete->second ||
            image[manifest] != recording.complete.at(manifest)) {
          ++figures.wrongly_accepted;
          note_problem(fmt::format("cut after event {} ({}), entries of {}: {} accepted but not complete", crash,
                                   events[crash].what, entries, name));
        }
      }
      for (const auto& [name, returned_at] : recording.created)
        if (crash >= returned_at && !verified.contains(name)) {
          ++figures.lost;
          note_problem(fmt::format("cut after event {} ({}), entries of {}: {} lost after its create returned", crash,
                                   events[crash].what, entries, name));
        }
    }
  }
  return figures;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_recording_sees_every_commit_synced_under_full_and_none_under_normal) {
  test::TempDir full_dir(scratch_parent()), normal_dir(scratch_parent());
  auto full = record_workload(full_dir.path(), config::Synchronous::full);
  auto normal = record_workload(normal_dir.path(), config::Synchronous::normal);
  // Every enqueue is a commit, and under full every commit syncs the WAL.
  BOOST_TEST(count_syncs(full.ops, "oos.db-wal") >= std::size_t{k_tasks_per_session[0] + k_tasks_per_session[1]});
  // Under normal only checkpoints sync: a few times in all.
  BOOST_TEST(count_syncs(normal.ops, "oos.db-wal") < 20);
  // The database is synced when it is created, by a checkpoint of db::Database's during the first connection
  // and by the checkpoint of each last close, which then deletes the WAL.
  BOOST_TEST(count_syncs(full.ops, "oos.db") >= 4);
  BOOST_TEST(std::ranges::count_if(full.ops, [](const FileOp& op) {
               return op.kind == FileOp::Kind::remove && op.file == "oos.db-wal";
             }) >= 1);
}

BOOST_AUTO_TEST_CASE(under_full_every_image_opens_sound_and_holds_every_acknowledged_task) {
  test::TempDir dir(scratch_parent());
  auto recording = record_workload(dir.path(), config::Synchronous::full);
  std::mt19937 random(14);
  auto points = crash_points(recording.ops, k_random_points, random);
  auto figures = check_images(recording, points, Unsynced::lost, random);
  BOOST_TEST_MESSAGE("power_loss full, unsynced writes lost: " << describe(figures));
  BOOST_TEST(figures.images >= 500);
  BOOST_TEST(figures.unsound == 0, describe(figures));
  BOOST_TEST(figures.tasks_lost == 0, describe(figures));
}

BOOST_AUTO_TEST_CASE(under_full_torn_and_reordered_unsynced_writes_lose_nothing_either) {
  test::TempDir dir(scratch_parent());
  auto recording = record_workload(dir.path(), config::Synchronous::full);
  std::mt19937 random(1414);
  std::vector<std::size_t> points;
  std::uniform_int_distribution<std::size_t> anywhere(0, recording.ops.size());
  for (int i = 0; i < 300; ++i) points.push_back(anywhere(random));
  std::ranges::sort(points);
  auto figures = check_images(recording, points, Unsynced::some_kept, random);
  BOOST_TEST_MESSAGE("power_loss full, unsynced writes torn: " << describe(figures));
  BOOST_TEST(figures.unsound == 0, describe(figures));
  BOOST_TEST(figures.tasks_lost == 0, describe(figures));
}

// The check can fail: under normal, commits since the last checkpoint are not on disk yet. SQLite (and
// docs/reference.md) promise that they are lost whole, never corrupted.
BOOST_AUTO_TEST_CASE(under_normal_some_image_loses_acknowledged_tasks_but_none_is_corrupt) {
  test::TempDir dir(scratch_parent());
  auto recording = record_workload(dir.path(), config::Synchronous::normal);
  std::mt19937 random(1415);
  auto points = crash_points(recording.ops, 300, random);
  auto figures = check_images(recording, points, Unsynced::lost, random);
  BOOST_TEST_MESSAGE("power_loss normal, unsynced writes lost: " << describe(figures));
  BOOST_TEST(figures.unsound == 0, describe(figures));
  BOOST_TEST(figures.images_losing >= 1, describe(figures));
}

BOOST_AUTO_TEST_CASE(no_backup_is_accepted_without_its_complete_content_and_none_is_lost_once_created) {
  test::TempDir state(scratch_parent()), backups(scratch_parent());
  auto recording = record_backups(state.path(), backups.path());
  // Each create syncs its copy and its manifest, renames both and syncs the directory.
  auto count = [&](DirEvent::Kind kind) {
    return std::ranges::count_if(recording.events, [&](const DirEvent& e) { return e.kind == kind; });
  };
  BOOST_TEST(count(DirEvent::Kind::sync_file) >= 6);
  BOOST_TEST(count(DirEvent::Kind::rename) == 6);
  BOOST_TEST(count(DirEvent::Kind::sync_dir) >= 3);
  auto figures = check_backup_images(recording);
  BOOST_TEST_MESSAGE("power_loss backups: " << recording.events.size() << " events, " << describe(figures));
  BOOST_TEST(figures.accepted > 0);
  BOOST_TEST(figures.wrongly_accepted == 0, describe(figures));
  BOOST_TEST(figures.lost == 0, describe(figures));
}

// The backup check can fail: a backup and its manifest put in place by renames with no sync of their content
// or of the directory (what create_backup must not do) are lost in some image.
BOOST_AUTO_TEST_CASE(the_backup_check_finds_a_backup_published_without_syncs_lost) {
  test::TempDir state(scratch_parent()), made(scratch_parent()), backups(scratch_parent());
  {
    config::Config config;
    auto logger = log::Logger::discard();
    util::ManualClock clock(k_start);
    db::Database db({state / "oos.db", config::Synchronous::full, util::Millis(2000)});
    queue::NewTask task;
    task.type = "job";
    queue::SqliteTaskStore(db, config, clock, *logger).enqueue(task);
    backup::create_backup(db, made.path(), k_start);
  }
  BackupRecording recording;
  {
    test::DirRecorder recorder(backups.path());
    for (const auto& entry : fs::directory_iterator(made.path())) {
      auto name = entry.path().filename().string();
      fs::copy_file(entry.path(), backups / ("." + name + ".tmp"));
      fs::rename(backups / ("." + name + ".tmp"), backups / name);
      recording.complete[name] = util::read_file(entry.path()).value();
      if (backup::parse_backup_name(name)) recording.created.emplace_back(name, 0);
    }
    recording.events = recorder.events();
  }
  for (auto& created : recording.created) created.second = recording.events.size() - 1;
  auto figures = check_backup_images(recording);
  BOOST_TEST_MESSAGE("power_loss backups published without syncs: " << describe(figures));
  BOOST_TEST(figures.lost > 0, describe(figures));
  BOOST_TEST(figures.wrongly_accepted == 0, describe(figures));
}

// A create that makes the backup directory itself: the directory's entry in its parent is durable before
// the create returns (util::ensure_directory syncs the parent of what it creates), or the backup could vanish
// with the directory.
BOOST_AUTO_TEST_CASE(a_backup_into_a_new_directory_keeps_the_directory_once_created) {
  test::TempDir state(scratch_parent()), parent(scratch_parent());
  config::Config config;
  auto logger = log::Logger::discard();
  util::ManualClock clock(k_start);
  db::Database db({state / "oos.db", config::Synchronous::full, util::Millis(2000)});
  queue::NewTask task;
  task.type = "job";
  queue::SqliteTaskStore(db, config, clock, *logger).enqueue(task);
  std::vector<DirEvent> events;
  {
    test::DirRecorder recorder(parent.path());
    backup::create_backup(db, parent / "backups" / "daily", k_start);
    events = recorder.events();
  }
  auto returned = events.size() - 1;
  for (auto entries = test::first_possible_entries(events, returned); entries <= returned; ++entries)
    BOOST_TEST(events[entries].entries.contains("backups"), "a cut after the create may find the parent as at event "
                                                                << entries << " (of " << events.size()
                                                                << "): without the backup directory");
}

BOOST_AUTO_TEST_SUITE_END()
