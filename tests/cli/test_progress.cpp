// The progress line on a terminal (docs/reference.md, "Progress on a terminal"): the tools run under a real
// pseudo-terminal, made by util-linux's script(1), whose transcript is what the terminal received.
#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "cli/cli_support.hpp"

using oos::test::CliFixture;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_SUITE(progress)

namespace {

// `word` quoted for /bin/sh.
std::string quoted(const std::string& word) {
  std::string out = "'";
  for (char ch : word) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

// What a line drawn in place looks like: back to the line's start, the line, erase the rest.
const std::regex k_backup_line("\rbackup copy: [0-9]+% [0-9.]+ [KMG]?i?B of [0-9.]+ [KMG]?i?B[^\r\n]*\x1b\\[K");
const std::regex k_enqueue_line("\renqueue parse: [0-9]+% [^\r\n]*\x1b\\[K");

struct TerminalFixture : CliFixture {
  TerminalFixture() {
    BOOST_TEST_REQUIRE(oos::util::find_program("script").has_value(), "script(1) of util-linux is needed");
    // A few thousand tasks: a database of some megabytes, copied in several steps.
    BOOST_TEST_REQUIRE(queue({"enqueue", "default", "--batch"}, batch_lines(3000)).exit_code == 0);
  }

  static std::string batch_lines(int count) {
    std::string lines;
    for (int i = 0; i < count; ++i)
      lines += R"({"type":"job","data":{"i":)" + std::to_string(i) + R"(,"pad":")" + std::string(1000, 'x') + "\"}}\n";
    return lines;
  }

  // Runs `tool`'s `args` (with --state-dir and --config) on a pseudo-terminal, followed by `shell_tail` (a
  // redirection); the result's out is what the terminal received (stdout and stderr).
  oos::util::RunResult on_terminal(const char* tool, const std::vector<std::string>& args,
                                   const std::string& shell_tail = "") {
    std::string command;
    for (const auto& word : tool_argv(tool, state_dir(), args)) command += quoted(word) + " ";
    return run({"script", "-qec", command + shell_tail, "/dev/null"});
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(backup_create_on_a_terminal_draws_a_progress_line_and_clears_it, TerminalFixture) {
  auto r = on_terminal("OOS_BACKUP_BIN", {"create"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
  BOOST_TEST(std::regex_search(r.out, k_backup_line), r.out);
  // Cleared before the result is printed: the result line starts on a clean line.
  auto cleared = r.out.rfind("\r\x1b[K");
  auto result = r.out.find(", verified (sha256 ");
  BOOST_TEST_REQUIRE(cleared != std::string::npos, r.out);
  BOOST_TEST(result != std::string::npos, r.out);
  BOOST_TEST(cleared < result, r.out);
}

BOOST_FIXTURE_TEST_CASE(backup_create_with_stderr_not_a_terminal_writes_no_progress, TerminalFixture) {
  auto log = dir() / "stderr.log";
  auto r = on_terminal("OOS_BACKUP_BIN", {"create"}, "2>" + quoted(log.string()));
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
  BOOST_TEST(r.out.find(", verified (sha256 ") != std::string::npos, r.out);  // stdout is still the terminal
  auto err = oos::test::read_file(log);
  BOOST_TEST(err.find("created and verified") != std::string::npos, err);  // the log went there
  for (const auto& output : {r.out, err}) {
    BOOST_TEST(output.find("backup copy") == std::string::npos, output);
    BOOST_TEST(output.find("\x1b[K") == std::string::npos, output);
  }
}

BOOST_FIXTURE_TEST_CASE(backup_create_json_on_a_terminal_writes_no_progress, TerminalFixture) {
  auto r = on_terminal("OOS_BACKUP_BIN", {"create", "--json"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
  BOOST_TEST(r.out.find(R"("verified":true)") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("backup copy") == std::string::npos, r.out);
  BOOST_TEST(r.out.find("\x1b[K") == std::string::npos, r.out);
}

// integrity_check has no measure of its own: the line shows the time, from SQLite's progress handler.
BOOST_FIXTURE_TEST_CASE(integrity_check_on_a_terminal_shows_the_time_and_json_does_not, TerminalFixture) {
  auto r = on_terminal("OOS_INTEGRITY_BIN", {"check"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
  BOOST_TEST(std::regex_search(r.out, std::regex("\rintegrity check: 0:[0-9]{2} elapsed\x1b\\[K")), r.out);
  BOOST_TEST(r.out.rfind("\r\x1b[K") < r.out.find("ok: integrity_check ok"), r.out);

  auto json = on_terminal("OOS_INTEGRITY_BIN", {"check", "--json"});
  BOOST_TEST_REQUIRE(json.exit_code == 0, json.out);
  BOOST_TEST(json.out.find(R"("ok":true)") != std::string::npos, json.out);
  BOOST_TEST(json.out.find("integrity check") == std::string::npos, json.out);
  BOOST_TEST(json.out.find("\x1b[K") == std::string::npos, json.out);
}

BOOST_FIXTURE_TEST_CASE(enqueue_batch_on_a_terminal_shows_the_parse_and_json_does_not, TerminalFixture) {
  auto input = dir() / "batch.jsonl";
  {
    std::ofstream out(input);
    out << batch_lines(2000);
  }
  auto r = on_terminal("OOS_QUEUE_BIN", {"enqueue", "default", "--batch"}, "<" + quoted(input.string()));
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
  BOOST_TEST(std::regex_search(r.out, k_enqueue_line), r.out.substr(0, 2000));
  BOOST_TEST(r.out.find("\r\x1b[K") < r.out.find("3001\r\n"));  // cleared before the ids
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 5000);

  auto json = on_terminal("OOS_QUEUE_BIN", {"enqueue", "default", "--batch", "--json"}, "<" + quoted(input.string()));
  BOOST_TEST_REQUIRE(json.exit_code == 0, json.out.substr(0, 2000));
  BOOST_TEST(json.out.find("enqueue parse") == std::string::npos, json.out.substr(0, 2000));
  BOOST_TEST(json.out.find("\x1b[K") == std::string::npos);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 7000);
}

// `requeue --all` commits 1000 tasks at a time and draws done of the total counted first. Its log lines (one per task
// requeued) erase the line first, so that each starts on a clean line (nothing follows a drawn line but another
// draw or the erase), and the line is drawn again after them.
BOOST_FIXTURE_TEST_CASE(retry_requeue_all_on_a_terminal_shows_the_tasks_requeued_and_json_does_not, TerminalFixture) {
  const std::string kill = "UPDATE tasks SET status = 'dead', finished_at = 1, last_error = 'boom'";
  sql_exec(kill);
  auto r = on_terminal("OOS_RETRY_BIN", {"requeue", "--all"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out.substr(0, 2000));
  for (const auto* done : {"0% 0", "33% 1000", "66% 2000", "100% 3000"})
    BOOST_TEST(r.out.find(fmt::format("\rrequeue: {} of 3000 tasks", done)) != std::string::npos, done);
  BOOST_TEST(!std::regex_search(r.out, std::regex("\rrequeue: [^\r\n]*\x1b\\[K[^\r]")), r.out.substr(0, 2000));
  BOOST_TEST(r.out.find("task 3000 requeued") != std::string::npos);           // the log, on the terminal
  BOOST_TEST(r.out.rfind("\r\x1b[K") < r.out.find("requeued task 3000\r\n"));  // cleared before the result
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'pending' AND replays = 1") == 3000);

  sql_exec(kill);
  auto log = dir() / "stderr.log";
  auto redirected = on_terminal("OOS_RETRY_BIN", {"requeue", "--all"}, "2>" + quoted(log.string()));
  BOOST_TEST_REQUIRE(redirected.exit_code == 0, redirected.out.substr(0, 2000));
  auto err = oos::test::read_file(log);
  BOOST_TEST(err.find("task 3000 requeued") != std::string::npos, err.substr(0, 2000));
  for (const auto& output : {redirected.out, err}) {
    BOOST_TEST(output.find("requeue: ") == std::string::npos, output.substr(0, 2000));
    BOOST_TEST(output.find("\x1b[K") == std::string::npos);
  }

  sql_exec(kill);
  auto json = on_terminal("OOS_RETRY_BIN", {"requeue", "--all", "--json"});
  BOOST_TEST_REQUIRE(json.exit_code == 0, json.out.substr(0, 2000));
  BOOST_TEST(json.out.find(R"("dry_run":false)") != std::string::npos, json.out.substr(0, 2000));
  BOOST_TEST(json.out.find("requeue: ") == std::string::npos, json.out.substr(0, 2000));
  BOOST_TEST(json.out.find("\x1b[K") == std::string::npos);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'pending' AND replays = 3") == 3000);
}

BOOST_AUTO_TEST_SUITE_END()
