// Power loss: a recorded run of the real TaskStore, and the disk as a power cut at hundreds of points of it
// leaves it (support/crash_image.hpp has the model). In every image the database must open, pass
// integrity_check and hold every task whose enqueue had returned before the cut. docs/reliability.md,
// "Power loss", has the figures.
#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <random>
#include <set>

#include <unistd.h>

#include "config.hpp"
#include "db/database.hpp"
#include "log.hpp"
#include "queue/task_store.hpp"
#include "support/crash_image.hpp"
#include "support/recording_vfs.hpp"
#include "support/temp_dir.hpp"
#include "util/time.hpp"

using namespace oos;
namespace fs = std::filesystem;
using test::CrashImages;
using test::FileOp;
using test::Unsynced;

BOOST_AUTO_TEST_SUITE(power_loss)

namespace {

constexpr util::UnixMillis k_start = 1'795'867'200'000;  // 2026-11-28T12:00:00Z
// Tasks per connection; the workload opens two in turn. With the payloads below, enough WAL for the
// checkpoints of db::Database (every 1000 pages) to run during the first.
constexpr int k_tasks_per_session = 220;
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
  for (int session = 0; session < 2; ++session) {
    db::Database db({dir / "oos.db", synchronous, util::Millis(2000)});
    queue::TaskStore tasks(db, config, clock, *logger);
    for (int i = 0; i < k_tasks_per_session; ++i) {
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

}  // namespace

BOOST_AUTO_TEST_CASE(the_recording_sees_every_commit_synced_under_full_and_none_under_normal) {
  test::TempDir full_dir(scratch_parent()), normal_dir(scratch_parent());
  auto full = record_workload(full_dir.path(), config::Synchronous::full);
  auto normal = record_workload(normal_dir.path(), config::Synchronous::normal);
  // Every enqueue is a commit, and under full every commit syncs the WAL.
  BOOST_TEST(count_syncs(full.ops, "oos.db-wal") >= 2 * k_tasks_per_session);
  // Under normal only checkpoints sync: a few times in all.
  BOOST_TEST(count_syncs(normal.ops, "oos.db-wal") < 20);
  // The database is synced when it is created, by the checkpoints of db::Database during the first connection
  // (at least one) and by the checkpoint of each last close, which then deletes the WAL.
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

BOOST_AUTO_TEST_SUITE_END()
