// Permissions: under umask 022, what holds task data (payloads, results, errors) is not readable by other users,
// checked as another user (nobody) through directories that user can traverse; the metrics textfiles stay
// readable for node_exporter (docs/reliability.md, "Permissions"; docs/reference.md section 8.4).
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/cli_support.hpp"

using namespace std::chrono_literals;
using nlohmann::json;
using oos::test::CliFixture;

namespace {

namespace fs = std::filesystem;

// The umask of this process (and so of the tools it starts) for one scope.
class Umask {
 public:
  explicit Umask(mode_t mask) : m_previous(::umask(mask)) {}
  ~Umask() { ::umask(m_previous); }
  Umask(const Umask&) = delete;
  Umask& operator=(const Umask&) = delete;

 private:
  mode_t m_previous;
};

// Whether user nobody can read `file` (runuser -u nobody -- test -r FILE, which opens nothing).
bool nobody_can_read(CliFixture& f, const fs::path& file) {
  auto r = f.run({"runuser", "-u", "nobody", "--", "test", "-r", file.string()});
  BOOST_TEST_REQUIRE((r.exit_code == 0 || r.exit_code == 1), "runuser failed: " << r.err);
  return r.exit_code == 0;
}

// The test's directories, all 0755 like a state directory an administrator made by hand, so that a file
// nobody cannot read is unreadable for its own mode, not because a directory on the way is closed.
struct Layout {
  fs::path state, backups, cleanup_logs, metrics, logs;
};

Layout open_layout(CliFixture& f) {
  Layout l{f.state_dir(), f.dir() / "backups", f.dir() / "cleanup-logs", f.dir() / "metrics", f.dir() / "logs"};
  fs::permissions(f.dir().path(), fs::perms(0755));
  for (const auto& d : {l.state, l.backups, l.cleanup_logs, l.metrics, l.logs}) {
    fs::create_directories(d);
    fs::permissions(d, fs::perms(0755));
    // The control: a 0644 file there is readable by nobody, so the check below means something.
    oos::test::write_file(d / "control", "x");
    fs::permissions(d / "control", fs::perms(0644));
    BOOST_TEST_REQUIRE(nobody_can_read(f, d / "control"), "nobody cannot reach " << d);
    fs::remove(d / "control");
  }
  for (fs::path p = f.dir().path(); p != p.root_path(); p = p.parent_path())
    BOOST_TEST_REQUIRE(((fs::status(p).permissions() & fs::perms::others_exec) != fs::perms::none), p);
  return l;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(permissions)

BOOST_FIXTURE_TEST_CASE(task_data_files_are_unreadable_by_other_users_and_textfiles_readable_under_umask_022,
                        CliFixture) {
  BOOST_TEST_REQUIRE(::geteuid() == 0, "this test needs root (it checks files as user nobody with runuser)");
  auto l = open_layout(*this);
  write_config("[log]\nfile = \"" + (l.logs / "oos.log").string() + "\"\n\n[backup]\ndir = \"" + l.backups.string() +
               "\"\n\n[cleanup]\nlog_dir = \"" + l.cleanup_logs.string() + "\"\n\n[metrics]\ntextfile_dir = \"" +
               l.metrics.string() + "\"\n\n[worker]\npoll_interval = \"50ms\"\n\n" +
               oos::test::handler_toml("secret", "/bin/cat"));
  Umask umask(022);  // the tools inherit it

  for (int i = 0; i < 3; ++i) enqueue("default", "secret", {"--data", R"({"password":"hunter2"})"});
  // A worker running: its connection keeps the -wal and -shm, which hold the same data.
  auto worker = start_worker({"--name", "w1"});
  BOOST_TEST_REQUIRE(
      oos::test::eventually([&] { return sql_int("SELECT count(*) FROM tasks WHERE status = 'succeeded'") == 3; },
                            oos::test::scaled(20s), {worker.get()}));
  std::vector<fs::path> private_files{db_path()};
  for (const char* suffix : {"-wal", "-shm"}) {
    fs::path file = db_path().string() + suffix;
    BOOST_TEST_REQUIRE(fs::exists(file), file);
    BOOST_TEST(!nobody_can_read(*this, file), file);
  }
  worker->signal(SIGTERM);
  BOOST_TEST_REQUIRE(worker->wait(oos::test::scaled(20s)) == 0, worker->err());

  auto created = backup({"--json"});
  BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
  fs::path file = json::parse(created.out)["path"].get<std::string>();
  auto restored = backup({"restore", file.string(), "--json"});
  BOOST_TEST_REQUIRE(restored.exit_code == 0, restored.err);
  auto cleaned = cleanup({"--force"});
  BOOST_TEST_REQUIRE(cleaned.exit_code == 0, cleaned.err);
  BOOST_TEST_REQUIRE(queue({"metrics", "--textfile"}).exit_code == 0);

  private_files.push_back(file);
  private_files.push_back(file.string() + ".manifest.json");
  private_files.push_back(json::parse(restored.out)["kept_aside"].get<std::string>());
  for (const auto& e : fs::directory_iterator(l.cleanup_logs)) private_files.push_back(e.path());
  for (const auto& e : fs::directory_iterator(l.logs)) private_files.push_back(e.path());
  BOOST_TEST(private_files.size() >= 6u);
  for (const auto& f : private_files) {
    BOOST_TEST_CONTEXT(f) {
      BOOST_TEST(fs::exists(f));
      BOOST_TEST(!nobody_can_read(*this, f));
    }
  }
  // The log holds what the tools said about the tasks; the file exists and is not empty.
  BOOST_TEST(fs::file_size(l.logs / "oos.log") > 0u);

  // node_exporter runs as its own user: the textfiles stay readable (0644).
  std::vector<fs::path> textfiles;
  for (const auto& e : fs::directory_iterator(l.metrics))
    if (e.path().extension() == ".prom") textfiles.push_back(e.path());
  BOOST_TEST(textfiles.size() >= 3u);  // oos_queue, oos_backup, oos_cleanup (the worker's is removed at exit)
  for (const auto& f : textfiles) BOOST_TEST(nobody_can_read(*this, f), f);
}

BOOST_FIXTURE_TEST_CASE(a_rotated_log_file_is_created_unreadable_by_other_users_too, CliFixture) {
  BOOST_TEST_REQUIRE(::geteuid() == 0, "this test needs root (it checks files as user nobody with runuser)");
  auto l = open_layout(*this);
  // A log of 1 KiB: a few enqueues at debug level rotate it.
  write_config("[log]\nlevel = \"debug\"\nfile = \"" + (l.logs / "oos.log").string() +
               "\"\nmax_size = \"1KB\"\nmax_files = 3\n");
  Umask umask(022);
  for (int i = 0; i < 20; ++i) enqueue("default", "t", {"--data", R"({"password":"hunter2"})"});
  std::vector<fs::path> logs;
  for (const auto& e : fs::directory_iterator(l.logs)) logs.push_back(e.path());
  BOOST_TEST_REQUIRE(logs.size() >= 2u, "the log did not rotate");
  for (const auto& f : logs) BOOST_TEST(!nobody_can_read(*this, f), f);
}

BOOST_AUTO_TEST_SUITE_END()
