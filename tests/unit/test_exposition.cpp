#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <limits>
#include <string>

#include "metrics/exposition.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"

using namespace oos::metrics;
using oos::test::TempDir;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_SUITE(exposition)

BOOST_AUTO_TEST_CASE(help_and_type_come_once_before_the_samples_of_a_metric) {
  Exposition out;
  out.add("oos_a_total", Type::counter, "Things done", 3)
      .add("oos_b", Type::gauge, "Fill", 0.25, {{"path", "/var"}})
      .add("oos_b", Type::gauge, "Fill", 1, {{"path", "/"}});
  BOOST_TEST(out.text() ==
             "# HELP oos_a_total Things done\n# TYPE oos_a_total counter\noos_a_total 3\n"
             "# HELP oos_b Fill\n# TYPE oos_b gauge\noos_b{path=\"/var\"} 0.25\noos_b{path=\"/\"} 1\n");
}

BOOST_AUTO_TEST_CASE(label_values_and_help_are_escaped) {
  Exposition out;
  out.add("m", Type::gauge, "a \\ and\nnewline", 1, {{"l", "say \"hi\"\\\n"}, {"k", "v"}});
  BOOST_TEST(out.text() == "# HELP m a \\\\ and\\nnewline\n# TYPE m gauge\nm{l=\"say \\\"hi\\\"\\\\\\n\",k=\"v\"} 1\n");
}

BOOST_AUTO_TEST_CASE(values_keep_their_precision_and_special_values_are_spelled_out) {
  Exposition out;
  out.add("t", Type::gauge, "h", 1764352363.123)
      .add("n", Type::gauge, "h", std::numeric_limits<double>::quiet_NaN())
      .add("i", Type::gauge, "h", std::numeric_limits<double>::infinity());
  BOOST_TEST(out.text().find("t 1764352363.123\n") != std::string::npos, out.text());
  BOOST_TEST(out.text().find("n NaN\n") != std::string::npos);
  BOOST_TEST(out.text().find("i +Inf\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_textfile_is_replaced_whole_and_readable_by_others) {
  TempDir tmp;
  auto old_mask = ::umask(077);
  auto first = write_textfile(tmp.path(), "backup", "a 1\n");
  auto second = write_textfile(tmp.path(), "backup", "a 2\n");
  ::umask(old_mask);
  BOOST_TEST_REQUIRE(first.has_value());
  BOOST_TEST_REQUIRE(second.has_value());
  auto file = tmp.path() / "oos_backup.prom";
  BOOST_TEST(*oos::util::read_file(file) == "a 2\n");
  struct stat st {};
  BOOST_TEST_REQUIRE(::stat(file.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777u) == 0644u);
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(tmp.path())) ++entries;
  BOOST_TEST(entries == 1);  // no temporary file left behind
}

BOOST_AUTO_TEST_CASE(a_missing_directory_is_an_error_naming_the_file) {
  TempDir tmp;
  auto written = write_textfile(tmp.path() / "absent", "cleanup", "a 1\n");
  BOOST_TEST_REQUIRE(!written.has_value());
  BOOST_TEST(written.error().find("oos_cleanup.prom") != std::string::npos, written.error());
  BOOST_TEST(written.error().find("No such file or directory") != std::string::npos, written.error());
}

BOOST_AUTO_TEST_SUITE_END()
