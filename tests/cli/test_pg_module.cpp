// The PostgreSQL module (liboos-pg.so, docs/decisions.md "The PostgreSQL module"): a tool on SQLite never loads it
// nor libpq; with a database URL it loads both, from lib/oos beside its bin directory, in the build tree and once
// installed; without the module a URL is one line of error, 69, naming the path it looked at.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <csignal>
#include <string>

#include "pg_support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace oos::test {
namespace {

// The tools that open a backend, and so may load the module.
constexpr const char* k_backend_tools[] = {"OOS_QUEUE_BIN", "OOS_WORKER_BIN", "OOS_RETRY_BIN", "OOS_HEALTH_BIN"};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The memory map of a running process: the files it has loaded.
std::string maps_of(pid_t pid) {
  return read_file("/proc/" + std::to_string(pid) + "/maps");
}

// A worker on this fixture's state (or the URL in the environment), once it has logged that it started.
std::unique_ptr<BackgroundProcess> started_worker(CliFixture& f) {
  auto w = f.start_worker({"--name", "module-1"});
  BOOST_TEST_REQUIRE(eventually([&] { return contains(w->err(), "started on"); }, scaled(10s), {w.get()}), w->err());
  return w;
}

void stop(BackgroundProcess& w) {
  w.signal(SIGTERM);
  BOOST_TEST(w.wait(scaled(10s)) == 0, w.err());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_module)

BOOST_FIXTURE_TEST_CASE(no_tool_links_libpq, CliFixture) {
  // What the dynamic loader maps at every start (ldd's question), for the tools that can open PostgreSQL.
  for (const auto* tool : k_backend_tools) {
    auto r = run({"env", "LD_TRACE_LOADED_OBJECTS=1", binary_from_env(tool)});
    BOOST_TEST_REQUIRE(contains(r.out, "libc.so"), tool << ": " << r.out << r.err);
    BOOST_TEST(!contains(r.out, "libpq"), tool << ": " << r.out);
  }
}

BOOST_FIXTURE_TEST_CASE(status_on_sqlite_loads_neither_the_module_nor_libpq, CliFixture) {
  create_database();
  auto r = run({"env", "LD_DEBUG=libs", binary_from_env("OOS_QUEUE_BIN"), "--state-dir", state_dir().string(),
                "--config", config_path().string(), "status"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST_REQUIRE(contains(r.err, "libc.so"), r.err);  // LD_DEBUG reports what it loads
  BOOST_TEST(!contains(r.err, "libpq"), r.err);
  BOOST_TEST(!contains(r.err, "liboos-pg"), r.err);
}

BOOST_FIXTURE_TEST_CASE(status_on_postgresql_loads_the_module_and_libpq, PgHosts) {
  auto r = run({"env", "LD_DEBUG=libs", binary_from_env("OOS_QUEUE_BIN"), "--state-dir", state_dir().string(),
                "--config", config_path().string(), "status"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(contains(r.err, "lib/oos/liboos-pg.so"), r.err);
  BOOST_TEST(contains(r.err, "libpq.so"), r.err);
}

BOOST_FIXTURE_TEST_CASE(a_worker_on_sqlite_has_no_libpq_mapped, CliFixture) {
  auto w = started_worker(*this);
  const auto maps = maps_of(w->pid());
  BOOST_TEST_REQUIRE(contains(maps, "libc.so"), maps);
  BOOST_TEST(!contains(maps, "libpq"), maps);
  BOOST_TEST(!contains(maps, "liboos-pg"), maps);
  stop(*w);
}

BOOST_FIXTURE_TEST_CASE(a_worker_on_postgresql_has_the_module_and_libpq_mapped, PgHosts) {
  auto w = started_worker(*this);
  const auto maps = maps_of(w->pid());
  BOOST_TEST(contains(maps, "liboos-pg.so"), maps);
  BOOST_TEST(contains(maps, "libpq.so"), maps);
  stop(*w);
}

BOOST_FIXTURE_TEST_CASE(a_missing_module_is_one_line_69_naming_its_path_and_sqlite_does_not_need_it, CliFixture) {
  // A copy of oos-queue with no lib/oos beside its directory: a tool installed without the module.
  const auto bin = dir() / "bare" / "bin";
  fs::create_directories(bin);
  fs::copy_file(binary_from_env("OOS_QUEUE_BIN"), bin / "oos-queue");
  const auto expected = (dir() / "bare" / "lib" / "oos" / "liboos-pg.so").string();
  const std::vector<std::string> status = {
      (bin / "oos-queue").string(), "--state-dir", state_dir().string(), "--config", config_path().string(), "status"};

  std::vector<std::string> with_url = {"env", "OOS_DATABASE_URL=postgresql://oos@db.invalid/oos"};
  with_url.insert(with_url.end(), status.begin(), status.end());
  auto r = run(with_url);
  BOOST_TEST(r.exit_code == 69, r.err);
  BOOST_TEST(is_one_error_line(r.err, "oos-queue"), r.err);
  BOOST_TEST(contains(r.err, "PostgreSQL support is not installed: cannot load " + expected + ": "), r.err);
  BOOST_TEST(contains(r.err, "install liboos-pg.so"), r.err);
  BOOST_TEST(!contains(r.err, "db.invalid"), r.err);  // the server is never reached for

  create_database();
  r = run(status);
  BOOST_TEST(r.exit_code == 0, r.err);
}

BOOST_FIXTURE_TEST_CASE(installed_tools_find_the_installed_module, PgHosts) {
  const auto stage = dir() / "stage";
  const auto build_dir = fs::path(binary_from_env("OOS_QUEUE_BIN")).parent_path().parent_path().parent_path();
  auto install = run({"env", "DESTDIR=" + stage.string(), "PREFIX=/usr/local", "BUILD_DIR=" + build_dir.string(),
                      std::string(OOS_SOURCE_DIR) + "/scripts/install", "install"});
  BOOST_TEST_REQUIRE(install.exit_code == 0, install.out << install.err);
  BOOST_TEST_REQUIRE(fs::is_regular_file(stage / "usr/local/lib/oos/liboos-pg.so"));

  enqueue("mail", "send");
  auto r = run({"env", "LD_DEBUG=libs", (stage / "usr/local/bin/oos-queue").string(), "--state-dir",
                state_dir().string(), "--config", config_path().string(), "status"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(contains(r.out, "mail"), r.out);
  BOOST_TEST(contains(r.err, (stage / "usr/local/lib/oos/liboos-pg.so").string()), r.err);

  auto uninstall = run({"env", "DESTDIR=" + stage.string(), "PREFIX=/usr/local", "BUILD_DIR=" + build_dir.string(),
                        std::string(OOS_SOURCE_DIR) + "/scripts/install", "uninstall"});
  BOOST_TEST_REQUIRE(uninstall.exit_code == 0, uninstall.out << uninstall.err);
  BOOST_TEST(!fs::exists(stage / "usr/local/lib/oos"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace oos::test
