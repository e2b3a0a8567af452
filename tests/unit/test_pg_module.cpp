// backends/pg_module: where a tool looks for the PostgreSQL module, and the refusals when it cannot use what it finds
// there (cli.pg_module loads the real one, in the build tree and installed).
#include <boost/test/unit_test.hpp>

#include <string>

#include "backends/pg_module.hpp"
#include "config.hpp"
#include "error.hpp"
#include "support/temp_dir.hpp"

namespace oos::store {
namespace {

// The oos::Error that open_pg_module() throws for the module at `path`.
Error refusal(const std::filesystem::path& path) {
  config::Config config;
  util::SystemClock clock;
  auto logger = log::Logger::discard();
  try {
    open_pg_module(path, "postgresql://oos@db.invalid/oos", std::nullopt, config, clock, *logger);
  } catch (const Error& e) {
    return e;
  }
  BOOST_FAIL("open_pg_module(" << path << ") did not throw");
  return Error(ExitCode::ok, "");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_module)

BOOST_AUTO_TEST_CASE(the_module_is_in_lib_oos_beside_the_bin_directory) {
  BOOST_TEST(pg_module_path("/usr/local/bin/oos-queue") == "/usr/local/lib/oos/liboos-pg.so");
  BOOST_TEST(pg_module_path("/opt/oos/bin/oos-worker") == "/opt/oos/lib/oos/liboos-pg.so");
  // The build tree: build/tools/<tool>/<tool>, and the module in build/tools/lib/oos.
  BOOST_TEST(pg_module_path("/src/build/tools/oos-health/oos-health") == "/src/build/tools/lib/oos/liboos-pg.so");
}

BOOST_AUTO_TEST_CASE(a_missing_module_is_69_naming_its_path_and_what_to_do) {
  test::TempDir dir;
  const auto path = dir.path() / "lib" / "oos" / "liboos-pg.so";
  auto e = refusal(path);
  BOOST_TEST(static_cast<int>(e.code()) == 69);
  BOOST_TEST(std::string(e.what()) ==
             "PostgreSQL support is not installed: cannot load " + path.string() +
                 ": cannot open shared object file: No such file or directory; install liboos-pg.so with the tools "
                 "(make install puts it in lib/oos beside their bin directory), or unset db.url and OOS_DATABASE_URL "
                 "to use SQLite");
}

BOOST_AUTO_TEST_CASE(a_library_without_the_entry_points_is_refused) {
  auto e = refusal("libm.so.6");
  BOOST_TEST(static_cast<int>(e.code()) == 69);
  BOOST_TEST(std::string(e.what()).find("libm.so.6 is not the OOS PostgreSQL module") != std::string::npos, e.what());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace oos::store
