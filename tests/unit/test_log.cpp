#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "log.hpp"
#include "support/log_file.hpp"
#include "support/temp_dir.hpp"
#include "util/fd.hpp"
#include "util/progress.hpp"

using oos::config::LogFormat;
using oos::config::LogLevel;
using oos::log::render_json;
using oos::log::render_text;
using oos::log::resolve_format;
using oos::test::TempDir;
using oos::test::write_file;
using oos::util::Fd;

namespace {

constexpr std::int64_t k_time = 1'764'333'495'123;  // 2025-11-28T12:38:15.123Z

// "dev:ino" of an open descriptor, the way systemd writes $JOURNAL_STREAM, optionally shifted to name a
// different device or inode.
std::string journal_stream_of(int fd, long long dev_delta = 0, long long ino_delta = 0) {
  struct stat st {};
  BOOST_TEST_REQUIRE(::fstat(fd, &st) == 0);
  return std::to_string(static_cast<long long>(st.st_dev) + dev_delta) + ":" +
         std::to_string(static_cast<long long>(st.st_ino) + ino_delta);
}

std::string format_name(LogFormat f) {
  switch (f) {
    case LogFormat::automatic: return "auto";
    case LogFormat::journal: return "journal";
    case LogFormat::json: return "json";
    case LogFormat::text: return "text";
  }
  return "?";
}

}  // namespace

// The suite's namespace would clash with ::log() at global scope.
namespace oos_unit {

BOOST_AUTO_TEST_SUITE(log)

BOOST_AUTO_TEST_CASE(render_json_produces_one_object_with_ts_level_tool_msg_and_the_fields) {
  auto line =
      render_json(k_time, LogLevel::warn, "oos-worker", "task failed", {{"task_id", "42"}, {"queue", "default"}});
  BOOST_TEST(line.find('\n') == std::string::npos);
  auto doc = nlohmann::json::parse(line);
  BOOST_TEST_REQUIRE(doc.is_object());
  BOOST_TEST(doc.size() == 6u);
  BOOST_TEST(doc.at("ts").get<std::string>() == "2025-11-28T12:38:15.123Z");
  BOOST_TEST(doc.at("level").get<std::string>() == "warn");
  BOOST_TEST(doc.at("tool").get<std::string>() == "oos-worker");
  BOOST_TEST(doc.at("msg").get<std::string>() == "task failed");
  BOOST_TEST(doc.at("task_id").get<std::string>() == "42");
  BOOST_TEST(doc.at("queue").get<std::string>() == "default");
}

BOOST_AUTO_TEST_CASE(render_json_escapes_quotes_backslashes_and_newlines_so_the_line_stays_one_object) {
  const std::string message = "he said \"no\"\nthen left\\\ttab";
  const std::string field = "line1\nline2 \"quoted\" \x01";
  auto line = render_json(k_time, LogLevel::error, "oos-\"tool\"", message, {{"err\"or", field}});
  BOOST_TEST(line.find('\n') == std::string::npos);
  auto doc = nlohmann::json::parse(line);
  BOOST_TEST(doc.at("msg").get<std::string>() == message);
  BOOST_TEST(doc.at("tool").get<std::string>() == "oos-\"tool\"");
  BOOST_TEST(doc.at("err\"or").get<std::string>() == field);
}

struct LevelCase {
  LogLevel level;
  std::string name;
};

BOOST_AUTO_TEST_CASE(render_json_names_every_level_as_the_config_spells_it) {
  const std::vector<LevelCase> cases{{LogLevel::debug, "debug"},
                                     {LogLevel::info, "info"},
                                     {LogLevel::warn, "warn"},
                                     {LogLevel::error, "error"},
                                     {LogLevel::critical, "critical"}};
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("level " << c.name) {
      auto doc = nlohmann::json::parse(render_json(0, c.level, "t", "m", {}));
      BOOST_TEST(doc.at("level").get<std::string>() == c.name);
      BOOST_TEST(doc.at("ts").get<std::string>() == "1970-01-01T00:00:00Z");
      BOOST_TEST(doc.size() == 4u);
    }
  }
}

BOOST_AUTO_TEST_CASE(render_text_is_time_level_tool_message_then_key_value_fields) {
  BOOST_TEST(render_text(k_time, LogLevel::info, "oos-queue", "enqueued", {{"task_id", "7"}, {"queue", "mail"}}) ==
             "2025-11-28T12:38:15.123Z info oos-queue: enqueued task_id=7 queue=mail");
  BOOST_TEST(render_text(0, LogLevel::critical, "oos-backup", "disk full", {}) ==
             "1970-01-01T00:00:00Z critical oos-backup: disk full");
}

BOOST_AUTO_TEST_CASE(resolve_format_returns_an_explicit_format_as_is) {
  TempDir tmp;
  write_file(tmp / "stderr", "");
  Fd fd(::open((tmp / "stderr").c_str(), O_WRONLY | O_CLOEXEC));
  BOOST_TEST_REQUIRE(fd.get() >= 0);
  auto matching = journal_stream_of(fd.get());
  for (auto f : {LogFormat::journal, LogFormat::json, LogFormat::text}) {
    BOOST_TEST_CONTEXT("format " << format_name(f)) {
      BOOST_TEST(format_name(resolve_format(f, nullptr, fd.get())) == format_name(f));
      BOOST_TEST(format_name(resolve_format(f, matching.c_str(), fd.get())) == format_name(f));
    }
  }
}

BOOST_AUTO_TEST_CASE(automatic_format_is_journal_only_when_journal_stream_names_stderr) {
  TempDir tmp;
  write_file(tmp / "stderr", "");
  Fd fd(::open((tmp / "stderr").c_str(), O_WRONLY | O_CLOEXEC));
  BOOST_TEST_REQUIRE(fd.get() >= 0);
  auto matching = journal_stream_of(fd.get());
  auto next_inode = journal_stream_of(fd.get(), 0, 1);
  auto previous_inode = journal_stream_of(fd.get(), 0, -1);
  auto other_device = journal_stream_of(fd.get(), 1, 0);
  struct Case {
    const char* journal_stream;
    std::string expected;
  };
  const std::vector<Case> cases{
      {matching.c_str(), "journal"},
      {next_inode.c_str(), "json"},  // inherited from a parent whose stderr was the journal
      {previous_inode.c_str(), "json"},
      {other_device.c_str(), "json"},
      {nullptr, "json"},
      {"", "json"},
      {"garbage", "json"},
      {"12", "json"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("JOURNAL_STREAM " << (c.journal_stream ? c.journal_stream : "(unset)")) {
      BOOST_TEST(format_name(resolve_format(LogFormat::automatic, c.journal_stream, fd.get())) == c.expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(automatic_format_is_text_on_a_terminal_without_the_journal) {
  Fd master(::posix_openpt(O_RDWR | O_NOCTTY));
  BOOST_TEST_REQUIRE(master.get() >= 0);
  BOOST_TEST_REQUIRE(::grantpt(master.get()) == 0);
  BOOST_TEST_REQUIRE(::unlockpt(master.get()) == 0);
  const char* slave_name = ::ptsname(master.get());
  BOOST_TEST_REQUIRE(slave_name != nullptr);
  Fd terminal(::open(slave_name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  BOOST_TEST_REQUIRE(terminal.get() >= 0);
  BOOST_TEST(format_name(resolve_format(LogFormat::automatic, nullptr, terminal.get())) == "text");
  auto matching = journal_stream_of(terminal.get());
  BOOST_TEST(format_name(resolve_format(LogFormat::automatic, matching.c_str(), terminal.get())) == "journal");
}

// A progress line on the terminal erases itself before each record on stderr while a ClearBeforeStderr lives
// (Logger::before_stderr): `clear` runs first, once per record written (not for a record below the level), and no
// longer once it is gone. Fd 2 is a file for the test.
BOOST_AUTO_TEST_CASE(clear_before_stderr_runs_before_each_record_written_while_it_lives) {
  TempDir tmp;
  auto path = tmp / "stderr";
  Fd saved(::dup(STDERR_FILENO));
  {
    Fd file(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    BOOST_TEST_REQUIRE(file.get() >= 0);
    ::dup2(file.get(), STDERR_FILENO);
  }
  {
    oos::log::Logger logger("oos-retry", LogLevel::info, LogFormat::text, oos::config::LogSettings{});
    {
      oos::log::ClearBeforeStderr clear(logger, [] { oos::util::write_stderr("<clear>"); });
      logger.info("one");
      logger.debug("below the level");
      logger.info("two");
    }
    logger.info("three");
  }
  std::fflush(stderr);
  ::dup2(saved.get(), STDERR_FILENO);
  auto text = oos::test::file_text(path);
  BOOST_TEST(text.find("<clear>") == 0, text);
  BOOST_TEST(text.find("<clear>", text.find("oos-retry: one")) < text.find("oos-retry: two"), text);
  BOOST_TEST(text.find("<clear>", text.find("oos-retry: two")) == std::string::npos, text);
  BOOST_TEST(text.find("below the level") == std::string::npos, text);
  BOOST_TEST(text.find("oos-retry: three") != std::string::npos, text);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace oos_unit
