// The readers of /proc/<pid>/statm and /proc/<pid>/stat, fed files in the kernel's format.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <string>
#include <vector>

#include "support/temp_dir.hpp"
#include "util/process_usage.hpp"

using namespace oos;
using oos::test::TempDir;

namespace {

const std::uint64_t k_page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
const double k_ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));

// A real /proc/<pid>/stat line (of `cat`), with utime 250, stime 50, cutime 30, cstime 20, 3 threads,
// starttime 2171776 and rss 389 pages; the command name made awkward.
constexpr const char* k_stat =
    "5763 (my (odd) cmd) S 5749 5749 4222 0 -1 4194304 98 0 0 0 250 50 30 20 20 0 3 0 2171776 3133440 389 "
    "18446744073709551615 94783160926208 94783160946089 140729279454544 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 "
    "94783160962096 94783160963712 94783277907968 140729279457735 140729279457755 140729279457755 "
    "140729279459307 0\n";

std::filesystem::path write(const TempDir& dir, const std::string& name, const std::string& content) {
  auto path = dir / name;
  oos::test::write_file(path, content);
  return path;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(process_usage)

BOOST_AUTO_TEST_CASE(statm_gives_the_resident_pages_in_bytes) {
  TempDir dir;
  auto rss = util::read_statm_rss(write(dir, "statm", "765 437 409 5 0 123 0\n"));
  BOOST_REQUIRE_MESSAGE(rss.has_value(), (rss ? "" : rss.error()));
  BOOST_TEST(*rss == 437 * k_page);
}

BOOST_AUTO_TEST_CASE(a_malformed_or_missing_statm_is_an_error_naming_it) {
  TempDir dir;
  auto path = write(dir, "statm", "765\n");
  auto rss = util::read_statm_rss(path);
  BOOST_REQUIRE(!rss.has_value());
  BOOST_TEST(rss.error() == "malformed '" + path.string() + "': expected sizes in pages, got '765'");
  auto missing = util::read_statm_rss(dir / "nope");
  BOOST_REQUIRE(!missing.has_value());
  BOOST_TEST(missing.error() == "cannot read '" + (dir / "nope").string() + "': No such file or directory");
}

BOOST_AUTO_TEST_CASE(stat_gives_cpu_times_threads_start_and_rss) {
  TempDir dir;
  auto stat = util::read_process_stat(write(dir, "stat", k_stat));
  BOOST_REQUIRE_MESSAGE(stat.has_value(), (stat ? "" : stat.error()));
  BOOST_TEST(stat->state == 'S');
  BOOST_TEST(stat->cpu_seconds == 300 / k_ticks, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(stat->children_cpu_seconds == 50 / k_ticks, boost::test_tools::tolerance(1e-9));
  BOOST_TEST(stat->threads == 3);
  BOOST_TEST(stat->start_ticks == 2171776u);
  BOOST_TEST(stat->rss_bytes == 389 * k_page);
}

BOOST_AUTO_TEST_CASE(malformed_stat_files_are_errors_naming_the_file) {
  TempDir dir;
  const std::vector<std::pair<const char*, std::string>> cases{
      {"no command", "5763 S 5749\n"},
      {"cut short", "5763 (cat) R 5749 5749 4222 0 -1 4194304 98 0 0 0 0 0\n"},
      {"a word for a number",
       "5763 (cat) R 5749 5749 4222 0 -1 4194304 98 0 0 0 lots 0 0 0 20 0 1 0 2171776 3133440 "
       "389 0\n"},
  };
  for (const auto& [what, content] : cases) {
    BOOST_TEST_CONTEXT(what) {
      auto path = write(dir, "stat", content);
      auto stat = util::read_process_stat(path);
      BOOST_REQUIRE(!stat.has_value());
      BOOST_TEST(stat.error().starts_with("malformed '" + path.string() + "': "), stat.error());
    }
  }
}

BOOST_AUTO_TEST_CASE(this_process_can_be_read) {
  auto stat = util::read_process_stat();
  BOOST_REQUIRE_MESSAGE(stat.has_value(), (stat ? "" : stat.error()));
  BOOST_TEST(stat->threads >= 1);
  BOOST_TEST(stat->rss_bytes > 0u);
  BOOST_TEST(util::process_usage().rss_bytes > 0u);
  // An unreadable statm leaves the RSS at 0; the CPU times still come from getrusage.
  BOOST_TEST(util::process_usage("/nonexistent/statm").rss_bytes == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
