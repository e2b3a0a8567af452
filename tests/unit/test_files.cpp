#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <filesystem>
#include <string>

#include "support/temp_dir.hpp"
#include "util/files.hpp"

using namespace oos::util;
using oos::test::TempDir;
using oos::test::write_file;
namespace fs = std::filesystem;

namespace {

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  BOOST_TEST_REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777u;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(files)

BOOST_AUTO_TEST_CASE(ensure_directory_creates_nested_directories) {
  TempDir tmp;
  auto dir = tmp / "a" / "b" / "c";
  auto made = ensure_directory(dir);
  BOOST_TEST_REQUIRE(made.has_value(), (made ? std::string() : made.error()));
  BOOST_TEST(fs::is_directory(tmp / "a"));
  BOOST_TEST(fs::is_directory(tmp / "a" / "b"));
  BOOST_TEST(fs::is_directory(dir));
}

BOOST_AUTO_TEST_CASE(ensure_directory_gives_the_new_directory_mode_0750) {
  TempDir tmp;
  auto dir = tmp / "state";
  BOOST_TEST_REQUIRE(ensure_directory(dir).has_value());
  BOOST_TEST(mode_of(dir) == 0750u);
}

// The contract says "mode 0750 for new ones" of `dir` and its parents.
BOOST_AUTO_TEST_CASE(ensure_directory_gives_new_parent_directories_mode_0750_too) {
  TempDir tmp;
  BOOST_TEST_REQUIRE(ensure_directory(tmp / "p" / "q" / "leaf").has_value());
  BOOST_TEST(mode_of(tmp / "p" / "q" / "leaf") == 0750u);
  BOOST_TEST(mode_of(tmp / "p" / "q") == 0750u);
  BOOST_TEST(mode_of(tmp / "p") == 0750u);
}

BOOST_AUTO_TEST_CASE(ensure_directory_is_ok_on_an_existing_directory_and_leaves_it_alone) {
  TempDir tmp;
  auto dir = tmp / "existing";
  fs::create_directory(dir);
  fs::permissions(dir, fs::perms(0700));
  write_file(dir / "keep.txt", "kept");
  BOOST_TEST(ensure_directory(dir).has_value());
  BOOST_TEST(ensure_directory(dir).has_value());  // twice is as good as once
  BOOST_TEST(mode_of(dir) == 0700u);              // an existing directory keeps its mode
  BOOST_TEST(fs::exists(dir / "keep.txt"));
}

BOOST_AUTO_TEST_CASE(ensure_directory_fails_naming_the_path_when_a_parent_is_a_regular_file) {
  TempDir tmp;
  write_file(tmp / "file", "not a directory");
  auto dir = tmp / "file" / "sub";
  auto made = ensure_directory(dir);
  BOOST_TEST_REQUIRE(!made.has_value());
  BOOST_TEST(made.error() == "cannot create directory '" + dir.string() + "': Not a directory");
  BOOST_TEST(fs::is_regular_file(tmp / "file"));
}

BOOST_AUTO_TEST_CASE(ensure_directory_fails_when_the_path_itself_is_a_regular_file) {
  TempDir tmp;
  auto path = tmp / "plain";
  write_file(path, "x");
  auto made = ensure_directory(path);
  BOOST_TEST_REQUIRE(!made.has_value());
  BOOST_TEST(made.error().starts_with("cannot create directory '" + path.string() + "': "));
}

BOOST_AUTO_TEST_CASE(read_file_returns_the_whole_content_byte_for_byte) {
  TempDir tmp;
  std::string content = "line one\nline two\r\n";
  content.push_back('\0');
  content += "after a NUL byte, no trailing newline";
  content += std::string(200'000, 'x');  // larger than any stream buffer
  write_file(tmp / "data", content);
  auto read = read_file(tmp / "data");
  BOOST_TEST_REQUIRE(read.has_value());
  BOOST_TEST(read->size() == content.size());
  BOOST_TEST((*read == content));
}

BOOST_AUTO_TEST_CASE(read_file_of_an_empty_file_is_an_empty_string) {
  TempDir tmp;
  write_file(tmp / "empty", "");
  auto read = read_file(tmp / "empty");
  BOOST_TEST_REQUIRE(read.has_value());
  BOOST_TEST(read->empty());
}

BOOST_AUTO_TEST_CASE(read_file_reports_a_missing_file_naming_the_path) {
  TempDir tmp;
  auto path = tmp / "missing.toml";
  auto read = read_file(path);
  BOOST_TEST_REQUIRE(!read.has_value());
  BOOST_TEST(read.error() == "cannot read '" + path.string() + "': No such file or directory");
}

BOOST_AUTO_TEST_CASE(read_file_reports_a_directory_as_unreadable_instead_of_returning_empty_content) {
  TempDir tmp;
  auto read = read_file(tmp.path());
  BOOST_TEST(!read.has_value(), "a directory read as '" << (read ? *read : std::string()) << "'");
  if (!read) BOOST_TEST(read.error().starts_with("cannot read '" + tmp.path().string() + "': "));
}

// A limit of N bytes reads a file of N bytes and refuses one of N + 1, as a value (not an error text to parse),
// and stops reading there: /dev/zero is refused at once.
BOOST_AUTO_TEST_CASE(a_file_over_the_limit_is_told_apart_from_an_unreadable_one) {
  TempDir tmp;
  write_file(tmp / "exact", std::string(1024, 'x'));
  write_file(tmp / "over", std::string(1025, 'x'));
  auto exact = oos::util::read_file_within(tmp / "exact", 1024);
  BOOST_TEST_REQUIRE(exact.has_value());
  BOOST_TEST(exact->value_or("").size() == 1024u);
  auto over = oos::util::read_file_within(tmp / "over", 1024);
  BOOST_TEST_REQUIRE(over.has_value());
  BOOST_TEST(!over->has_value());
  auto zero = oos::util::read_file_within("/dev/zero", 1 << 20);
  BOOST_TEST_REQUIRE(zero.has_value());
  BOOST_TEST(!zero->has_value());
  BOOST_TEST(!oos::util::read_file_within(tmp / "missing", 1024).has_value());
  auto text = read_file(tmp / "over", 1024);
  BOOST_TEST_REQUIRE(!text.has_value());
  BOOST_TEST(text.error() == "'" + (tmp / "over").string() + "' is larger than 1 KiB");
}

BOOST_AUTO_TEST_SUITE_END()
