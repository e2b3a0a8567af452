// The /proc readers, fed files in the formats of a real machine (copied from Linux 6.18), broken files and
// missing ones.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "resources/resources.hpp"
#include "support/temp_dir.hpp"

using namespace oos;
using oos::test::TempDir;

namespace {

constexpr const char* k_loadavg = "3.25 3.14 2.97 7/120 5757\n";

// The head of a real /proc/meminfo (the rest of its ~55 lines changes nothing).
constexpr const char* k_meminfo =
    "MemTotal:       24683620 kB\n"
    "MemFree:        20746464 kB\n"
    "MemAvailable:   23510596 kB\n"
    "Buffers:            9816 kB\n"
    "Cached:          2835300 kB\n"
    "SwapCached:            0 kB\n"
    "HugePages_Total:       0\n"
    "Hugepagesize:       2048 kB\n";

constexpr const char* k_pressure =
    "some avg10=1.53 avg60=0.87 avg300=0.20 total=1234567\n"
    "full avg10=0.40 avg60=0.12 avg300=0.03 total=345678\n";

std::filesystem::path write(const TempDir& dir, const std::string& name, const std::string& content) {
  auto path = dir / name;
  oos::test::write_file(path, content);
  return path;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(resources)

BOOST_AUTO_TEST_CASE(loadavg_gives_the_three_averages) {
  TempDir dir;
  auto load = oos::resources::read_loadavg(write(dir, "loadavg", k_loadavg));
  BOOST_REQUIRE_MESSAGE(load.has_value(), (load ? "" : load.error()));
  BOOST_TEST(load->one == 3.25);
  BOOST_TEST(load->five == 3.14);
  BOOST_TEST(load->fifteen == 2.97);
}

BOOST_AUTO_TEST_CASE(malformed_loadavg_files_are_errors_naming_the_file) {
  TempDir dir;
  const std::vector<std::pair<const char*, std::string>> cases{
      {"empty", ""},
      {"two numbers", "3.25 3.14\n"},
      {"a word", "high 3.14 2.97 7/120 5757\n"},
      {"a trailing letter", "3.25x 3.14 2.97 7/120 5757\n"},
      {"negative", "-1.00 3.14 2.97 7/120 5757\n"},
      {"not a number", "nan 3.14 2.97 7/120 5757\n"},
  };
  for (const auto& [what, content] : cases) {
    BOOST_TEST_CONTEXT(what) {
      auto path = write(dir, "loadavg", content);
      auto load = oos::resources::read_loadavg(path);
      BOOST_REQUIRE(!load.has_value());
      BOOST_TEST(load.error().starts_with("malformed '" + path.string() + "': expected three load averages"),
                 load.error());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_missing_loadavg_is_an_error_naming_the_file_and_the_cause) {
  TempDir dir;
  auto load = oos::resources::read_loadavg(dir / "nope");
  BOOST_REQUIRE(!load.has_value());
  BOOST_TEST(load.error() == "cannot read '" + (dir / "nope").string() + "': No such file or directory");
}

BOOST_AUTO_TEST_CASE(the_real_proc_files_can_be_read) {
  BOOST_TEST(oos::resources::read_loadavg().has_value());
  auto memory = oos::resources::read_meminfo();
  BOOST_REQUIRE_MESSAGE(memory.has_value(), (memory ? "" : memory.error()));
  BOOST_TEST(memory->total_bytes > 0u);
  BOOST_TEST(memory->available_bytes <= memory->total_bytes);
  BOOST_TEST(oos::resources::read_pressure().has_value());  // a value or nullopt (no PSI), never an error
}

BOOST_AUTO_TEST_CASE(meminfo_gives_total_and_available_in_bytes) {
  TempDir dir;
  auto memory = oos::resources::read_meminfo(write(dir, "meminfo", k_meminfo));
  BOOST_REQUIRE_MESSAGE(memory.has_value(), (memory ? "" : memory.error()));
  BOOST_TEST(memory->total_bytes == 24683620ull * 1024);
  BOOST_TEST(memory->available_bytes == 23510596ull * 1024);
  BOOST_TEST(memory->available_percent() == 100.0 * 23510596 / 24683620, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(available_percent_is_within_0_and_100) {
  BOOST_TEST((oos::resources::MemoryInfo{1000, 250}.available_percent() == 25.0));
  BOOST_TEST((oos::resources::MemoryInfo{1000, 0}.available_percent() == 0.0));
  BOOST_TEST((oos::resources::MemoryInfo{1000, 2000}.available_percent() == 100.0));
  BOOST_TEST((oos::resources::MemoryInfo{}.available_percent() == 100.0));  // nothing known: no shortage
}

BOOST_AUTO_TEST_CASE(malformed_meminfo_files_are_errors_naming_the_file_and_the_cause) {
  TempDir dir;
  const std::vector<std::tuple<const char*, std::string, std::string>> cases{
      {"empty", "", "no MemTotal line"},
      {"no MemAvailable (before Linux 3.14)", "MemTotal:       24683620 kB\nMemFree:        20746464 kB\n",
       "no MemAvailable line"},
      {"no unit", "MemTotal:       24683620\nMemAvailable:   23510596 kB\n",
       "expected 'MemTotal: N kB', got 'MemTotal:       24683620'"},
      {"not a number", "MemTotal:       lots kB\nMemAvailable:   23510596 kB\n", "expected 'MemTotal: N kB'"},
      {"negative", "MemTotal:       24683620 kB\nMemAvailable:   -5 kB\n", "expected 'MemAvailable: N kB'"},
      {"overflowing", "MemTotal:       99999999999999999999 kB\nMemAvailable:   1 kB\n", "expected 'MemTotal: N kB'"},
      {"zero total", "MemTotal:       0 kB\nMemAvailable:   0 kB\n", "MemTotal is 0"},
  };
  for (const auto& [what, content, cause] : cases) {
    BOOST_TEST_CONTEXT(what) {
      auto path = write(dir, "meminfo", content);
      auto memory = oos::resources::read_meminfo(path);
      BOOST_REQUIRE(!memory.has_value());
      BOOST_TEST(memory.error().starts_with("malformed '" + path.string() + "': "), memory.error());
      BOOST_TEST(contains(memory.error(), cause), memory.error());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_missing_meminfo_is_an_error) {
  TempDir dir;
  auto memory = oos::resources::read_meminfo(dir / "meminfo");
  BOOST_REQUIRE(!memory.has_value());
  BOOST_TEST(memory.error() == "cannot read '" + (dir / "meminfo").string() + "': No such file or directory");
}

BOOST_AUTO_TEST_CASE(pressure_gives_some_and_full_averages) {
  TempDir dir;
  auto pressure = oos::resources::read_pressure(write(dir, "memory", k_pressure));
  BOOST_REQUIRE_MESSAGE(pressure.has_value(), (pressure ? "" : pressure.error()));
  BOOST_REQUIRE(pressure->has_value());
  BOOST_TEST((*pressure)->some_avg10 == 1.53);
  BOOST_TEST((*pressure)->some_avg60 == 0.87);
  BOOST_TEST((*pressure)->full_avg10 == 0.40);
  BOOST_TEST((*pressure)->full_avg60 == 0.12);
}

BOOST_AUTO_TEST_CASE(pressure_without_a_full_line_leaves_full_at_zero) {
  TempDir dir;
  auto pressure = oos::resources::read_pressure(write(dir, "cpu", "some avg10=12.00 avg60=3.50 avg300=1.00 total=9\n"));
  BOOST_REQUIRE_MESSAGE(pressure.has_value(), (pressure ? "" : pressure.error()));
  BOOST_REQUIRE(pressure->has_value());
  BOOST_TEST((*pressure)->some_avg10 == 12.0);
  BOOST_TEST((*pressure)->full_avg10 == 0.0);
}

BOOST_AUTO_TEST_CASE(no_pressure_file_means_a_kernel_without_psi) {
  TempDir dir;
  auto pressure = oos::resources::read_pressure(dir / "pressure" / "memory");
  BOOST_REQUIRE_MESSAGE(pressure.has_value(), (pressure ? "" : pressure.error()));
  BOOST_TEST(!pressure->has_value());
}

BOOST_AUTO_TEST_CASE(malformed_pressure_files_are_errors_naming_the_file) {
  TempDir dir;
  const std::vector<std::tuple<const char*, std::string, std::string>> cases{
      {"empty", "", "no 'some' line"},
      {"only full", "full avg10=0.40 avg60=0.12 avg300=0.03 total=345678\n", "no 'some' line"},
      {"no avg60", "some avg10=1.53 avg300=0.20 total=1234567\n", "expected avg10= and avg60="},
      {"a word for a number", "some avg10=high avg60=0.87 avg300=0.20 total=1\n", "expected avg10= and avg60="},
      {"an unknown line", "most avg10=1.53 avg60=0.87 avg300=0.20 total=1\n", "unexpected line"},
  };
  for (const auto& [what, content, cause] : cases) {
    BOOST_TEST_CONTEXT(what) {
      auto path = write(dir, "memory", content);
      auto pressure = oos::resources::read_pressure(path);
      BOOST_REQUIRE(!pressure.has_value());
      BOOST_TEST(pressure.error().starts_with("malformed '" + path.string() + "': "), pressure.error());
      BOOST_TEST(contains(pressure.error(), cause), pressure.error());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_pressure_path_that_cannot_be_read_is_an_error) {
  TempDir dir;
  auto pressure = oos::resources::read_pressure(dir.path());  // a directory
  BOOST_REQUIRE(!pressure.has_value());
  BOOST_TEST(pressure.error() == "cannot read '" + dir.path().string() + "': Is a directory");
}

BOOST_AUTO_TEST_SUITE_END()
