// The reliability suite's full disks (docs/reliability.md): the tools run with the state directory, the backup
// directory or the metrics directory on a tiny tmpfs, filled to the last page. The tmpfs lives in a mount
// namespace of this test process's own (unshare(CLONE_NEWNS), mounts private): the tools it starts inherit it,
// nothing reaches the host's mount table, and the mounts go with the process. CTest runs this suite in a process
// of its own. It needs root (CI runs the tests as root); unprivileged it fails and says so.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli_support.hpp"
#include "util/fd.hpp"

using nlohmann::json;
using oos::test::CliFixture;
namespace fs = std::filesystem;

namespace {

// Enters a mount namespace of this process's own, once, with every mount private to it.
void enter_private_mount_namespace() {
  static bool entered = false;
  if (entered) return;
  if (::geteuid() != 0)
    BOOST_FAIL(
        "the disk_full suite mounts tmpfs file systems in a private mount namespace and needs root "
        "(CI runs it as root); run it as root: ctest -R cli.disk_full");
  if (::unshare(CLONE_NEWNS) != 0) BOOST_FAIL(std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno));
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    BOOST_FAIL(std::string("making / private in the new mount namespace: ") + std::strerror(errno));
  entered = true;
}

// A tmpfs of `bytes` on `dir` (created), unmounted at the end of the test; fill() writes a file until the
// file system refuses the next byte, free_space() removes it.
class TinyDisk {
 public:
  TinyDisk(fs::path dir, std::size_t bytes) : m_dir(std::move(dir)) {
    enter_private_mount_namespace();
    fs::create_directories(m_dir);
    auto options = "size=" + std::to_string(bytes) + ",mode=0700";
    if (::mount("tmpfs", m_dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0)
      BOOST_FAIL("mounting a tmpfs on " + m_dir.string() + ": " + std::strerror(errno));
  }
  ~TinyDisk() { ::umount2(m_dir.c_str(), MNT_DETACH); }
  TinyDisk(const TinyDisk&) = delete;
  TinyDisk& operator=(const TinyDisk&) = delete;

  // Fills the file system but `leave` bytes (rounded to pages) with the file `filler`.
  void fill(std::size_t leave = 0) {
    oos::util::Fd fd(::open(filler().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    BOOST_REQUIRE(static_cast<bool>(fd));
    std::string chunk(64 * 1024, 'f');
    for (std::size_t size = chunk.size(); size > 0; size /= 2) {
      while (available() >= leave + size)
        if (::write(fd.get(), chunk.data(), size) < 0) break;
    }
    if (leave == 0)  // the last partial page, byte by byte
      while (::write(fd.get(), "f", 1) == 1) {
      }
  }
  void free_space() { fs::remove(filler()); }
  std::size_t available() const {
    struct statvfs st {};
    BOOST_REQUIRE(::statvfs(m_dir.c_str(), &st) == 0);
    return static_cast<std::size_t>(st.f_bavail) * st.f_frsize;
  }
  fs::path filler() const { return m_dir / "filler"; }

 private:
  fs::path m_dir;
};

// The names in `dir`, sorted.
std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// Runs `create` until it is not refused for a second backup within the same second (backup names have
// one-second resolution).
oos::util::RunResult create_backup(CliFixture& cli, const std::vector<std::string>& args) {
  for (int i = 0;; ++i) {
    auto r = cli.backup(args);
    if (r.exit_code != 75 || i == 3) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(disk_full)

// Enqueue until the state directory is full: the enqueue that does not fit exits 74 with one line, every id
// printed before is there, the database is sound, and once space is freed everything works again.
BOOST_FIXTURE_TEST_CASE(enqueue_until_the_disk_is_full_loses_nothing_and_recovers, CliFixture) {
  TinyDisk disk(state_dir(), 2 << 20);
  std::vector<long long> ids{enqueue("default", "job")};  // creates the database
  disk.fill(256 * 1024);
  std::string payload = json{{"blob", std::string(6000, 'p')}}.dump();
  oos::util::RunResult last;
  for (int i = 0; i < 200; ++i) {
    last = queue({"enqueue", "default", "job", "--data", payload});
    if (last.exit_code != 0) break;
    ids.push_back(std::stoll(last.out));
  }
  BOOST_TEST(last.exit_code == 74, last.err);
  BOOST_TEST(oos::test::is_one_error_line(last.err), last.err);
  BOOST_TEST(last.err.find("full") != std::string::npos, last.err);
  BOOST_TEST(last.out.empty(), last.out);
  BOOST_TEST(ids.size() > 10u, ids.size() << " enqueued before the disk was full");
  BOOST_TEST_MESSAGE(ids.size() << " tasks enqueued before the disk was full; then: " << last.err);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == static_cast<long long>(ids.size()));
  BOOST_TEST(sql_int("SELECT max(id) FROM tasks") == ids.back());
  BOOST_TEST(sql_text("PRAGMA integrity_check") == "ok");
  auto shown = queue({"show", std::to_string(ids.back())});
  BOOST_TEST(shown.exit_code == 0, shown.err);  // reading still works on a full disk

  disk.free_space();
  auto again = queue({"enqueue", "default", "job", "--data", payload});
  BOOST_TEST(again.exit_code == 0, again.err);
  BOOST_TEST(std::stoll(again.out) == ids.back() + 1);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == static_cast<long long>(ids.size() + 1));
  BOOST_TEST(sql_text("PRAGMA integrity_check") == "ok");
}

// A worker whose handler finished while the disk was full keeps the result and records it once space returns:
// the task succeeds from its one run (reliability issue, item 10: it was left running, then run again).
BOOST_FIXTURE_TEST_CASE(a_result_finished_on_a_full_disk_is_recorded_once_space_returns, CliFixture) {
  TinyDisk disk(state_dir(), 2 << 20);
  auto gate = dir() / "gate";
  auto runs = dir() / "runs";
  auto script = write_script("job.sh", "echo run >> '" + runs.string() + "'\n" + oos::test::wait_for_gate(gate) +
                                           "head -c 60000 /dev/zero | tr '\\0' r\n");
  write_config("[worker]\npoll_interval = \"100ms\"\n" + oos::test::handler_toml("job", script));
  auto id = enqueue("default", "job");
  auto worker = start_worker({"--max-tasks", "1"});
  BOOST_REQUIRE(oos::test::eventually([&] { return fs::exists(runs); }, oos::test::scaled(std::chrono::seconds(10)),
                                      {worker.get()}));
  disk.fill();
  oos::test::write_file(gate, "");
  BOOST_REQUIRE_MESSAGE(
      oos::test::eventually([&] { return worker->err().find("cannot be written") != std::string::npos; },
                            oos::test::scaled(std::chrono::seconds(10)), {worker.get()}),
      worker->err());
  BOOST_TEST(worker->err().find("\"critical\"") != std::string::npos, worker->err());
  // The line says what to do.
  BOOST_TEST(worker->err().find("free space on, or repair, the file system of '" + db_path().string() + "'") !=
                 std::string::npos,
             worker->err());
  // A few more tries fail, and the heartbeat due 10 s after the start fails too without ending the worker.
  BOOST_TEST(
      oos::test::eventually([&] { return worker->err().find("cannot write the heartbeat") != std::string::npos; },
                            oos::test::scaled(std::chrono::seconds(15)), {worker.get()}),
      worker->err());
  BOOST_TEST(worker->pump() == false, worker->err());  // still trying, not gone
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = " + std::to_string(id)) == "running");

  disk.free_space();
  BOOST_TEST(worker->wait(oos::test::scaled(std::chrono::seconds(20))) == 0, worker->err());
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = " + std::to_string(id)) == "succeeded");
  BOOST_TEST(sql_int("SELECT length(result) FROM tasks WHERE id = " + std::to_string(id)) == 60000);
  BOOST_TEST(sql_int("SELECT attempts FROM tasks WHERE id = " + std::to_string(id)) == 1);
  BOOST_TEST(sql_int("SELECT count(*) FROM task_attempts WHERE task_id = " + std::to_string(id)) == 1);
  BOOST_TEST(oos::test::read_file(runs) == "run\n");  // the handler ran once
  BOOST_TEST_MESSAGE("the worker's log on the full disk:\n" << worker->err());
  BOOST_TEST(sql_text("PRAGMA integrity_check") == "ok");
}

// A backup on a full backup disk: 74 with one line, no partial or temporary file left, the older backup
// untouched and still verified; the next create after space is freed succeeds.
BOOST_FIXTURE_TEST_CASE(a_backup_on_a_full_backup_disk_leaves_nothing_and_spares_older_ones, CliFixture) {
  auto backups = dir() / "backups";
  TinyDisk disk(backups, 1 << 20);
  write_config("[backup]\ndir = \"" + backups.string() + "\"\n");
  for (int i = 0; i < 20; ++i) enqueue("default", "job", {"--data", json{{"n", std::string(2000, 'x')}}.dump()});
  auto first = create_backup(*this, {"--json"});
  BOOST_REQUIRE_MESSAGE(first.exit_code == 0, first.err);
  fs::path older = json::parse(first.out)["path"].get<std::string>();
  auto before = names_in(backups);
  auto sha = oos::test::read_file(older.string() + ".manifest.json");

  disk.fill();
  auto full = create_backup(*this, {});
  BOOST_TEST(full.exit_code == 74, full.err);
  BOOST_TEST_MESSAGE("create on a full backup disk: " << full.err);
  BOOST_TEST(oos::test::is_one_error_line(full.err, "oos-backup"), full.err);
  auto after = names_in(backups);
  after.erase(std::find(after.begin(), after.end(), "filler"));
  BOOST_TEST(after == before, "left behind: " << json(after).dump());
  BOOST_TEST(oos::test::read_file(older.string() + ".manifest.json") == sha);
  auto verified = backup({"verify", older.string()});
  BOOST_TEST(verified.exit_code == 0, verified.err);

  disk.free_space();
  auto again = create_backup(*this, {"--json"});
  BOOST_TEST(again.exit_code == 0, again.err);
  BOOST_TEST(backup({"verify"}).exit_code == 0);
}

// A full metrics directory: the tool's own job still succeeds, with a warning naming the textfile.
BOOST_FIXTURE_TEST_CASE(a_full_metrics_directory_is_a_warning_not_a_failure, CliFixture) {
  auto metrics = dir() / "metrics";
  TinyDisk disk(metrics, 256 * 1024);
  write_config("[metrics]\ntextfile_dir = \"" + metrics.string() + "\"\n[worker]\npoll_interval = \"100ms\"\n" +
               oos::test::handler_toml("job", "/bin/true"));
  auto id = enqueue("default", "job");
  disk.fill();

  auto created = backup({"--json"});
  BOOST_TEST(created.exit_code == 0, created.err);
  BOOST_TEST(fs::exists(json::parse(created.out)["path"].get<std::string>()));
  BOOST_TEST(created.err.find("oos_backup.prom") != std::string::npos, created.err);
  BOOST_TEST_MESSAGE("create with a full metrics directory: " << created.err);

  auto worked = worker({"--drain"});
  BOOST_TEST(worked.exit_code == 0, worked.err);
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = " + std::to_string(id)) == "succeeded");
  BOOST_TEST(worked.err.find("oos_worker_") != std::string::npos, worked.err);

  auto left = names_in(metrics);
  BOOST_TEST(left == std::vector<std::string>{"filler"}, "left behind: " << json(left).dump());
}

BOOST_AUTO_TEST_SUITE_END()
