// The reliability suite's handlers that misbehave (docs/reliability.md): a flood on stdout, binary output, a
// handler that never reads its payload, one that closes stdout and goes on. The worker binary runs real handler
// scripts. The escaped daemon (a handler that leaves a process outside its group holding its output) is in the
// worker suite: worker/a_daemon_left_holding_the_output_is_killed_and_reported, and child_process's unit tests.
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/cli_support.hpp"

using nlohmann::json;
using oos::test::CliFixture;
using oos::test::handler_toml;
namespace fs = std::filesystem;

namespace {

// A line "NAME:   1234 kB" of /proc/PID/status, in bytes; -1 when the process or the line is gone.
long long status_bytes(pid_t pid, const std::string& name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with(name + ":")) return std::stoll(line.substr(name.size() + 1)) * 1024;
  return -1;
}

// Seconds between two of the worker's log records (its own clock), -1 if one is missing.
double logged_seconds(const std::string& err, std::string_view from, std::string_view to) {
  auto start = oos::test::log_time(err, from), end = oos::test::log_time(err, to);
  return start && end ? static_cast<double>(*end - *start) / 1000.0 : -1.0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(misbehaving_handlers)

// 1 GiB on stdout: the result keeps the first 64 KiB and the marker of the cut, and the worker reads the rest
// away without keeping it. Its peak resident memory (VmHWM) stays under 64 MiB: an idle worker peaks at about
// 10 MiB, and the 64 KiB result, the 4 KiB stderr tail and one 64 KiB read buffer add little; a worker that kept
// even a sixteenth of the flood would pass it.
BOOST_FIXTURE_TEST_CASE(a_gigabyte_on_stdout_is_capped_and_memory_stays_flat, CliFixture) {
  write_config("[worker]\npoll_interval = \"100ms\"\n" +
               handler_toml("flood", write_script("flood.sh", "head -c 1073741824 /dev/zero | tr '\\0' a\n"),
                            "timeout = \"60s\""));
  auto id = std::to_string(enqueue("default", "flood"));
  auto worker = start_worker({});
  BOOST_REQUIRE_MESSAGE(
      oos::test::eventually([&] { return sql_text("SELECT status FROM tasks WHERE id = " + id) == "succeeded"; },
                            oos::test::scaled(std::chrono::seconds(40)), {worker.get()}),
      worker->err());
  auto peak = status_bytes(worker->pid(), "VmHWM");
  worker->signal(SIGTERM);
  BOOST_TEST(worker->wait(oos::test::scaled(std::chrono::seconds(10))) == 0, worker->err());
  BOOST_TEST_MESSAGE("worker VmHWM after 1 GiB of stdout: "
                     << peak / 1024 << " KiB; the run took "
                     << logged_seconds(worker->err(), "started (type", "succeeded in") << " s");
  BOOST_TEST(peak > 0);
  // Under AddressSanitizer freed buffers wait in its quarantine (256 MiB by default) before reuse, so the bound
  // grows by that much there: still far below a worker that keeps the gigabyte.
  constexpr long long k_asan_quarantine = oos::test::k_address_sanitizer ? 256ll << 20 : 0;
  BOOST_TEST(peak < (64ll << 20) + k_asan_quarantine, peak / 1024 << " KiB");
  auto result = sql_text("SELECT result FROM tasks WHERE id = " + id);
  BOOST_TEST(result.substr(0, 65536) == std::string(65536, 'a'));
  BOOST_TEST(result.substr(65536) == "\n[oos: output cut at 65536 of 1073741824 bytes]");
  BOOST_TEST(worker->err().find("printed 1073741824 bytes; its result keeps the first 65536") != std::string::npos);
}

// NUL bytes, invalid UTF-8 and control characters on stdout: stored as printed (the result's bytes), and shown
// by `oos-queue show` (escaped) and `show --json` (a valid JSON document) without breaking either.
BOOST_FIXTURE_TEST_CASE(
    binary_output_is_stored_and_shown_without_breaking_show_or_json, CliFixture,
    *oos::test::sqlite_only("stores the bytes as printed: a text column holds no NUL and only "
                            "UTF-8, so PostgreSQL stores U+FFFD for them (cli.pg_hosts checks it)")) {
  write_config(handler_toml("binary", write_script("binary.sh", "printf 'a\\000b\\377\\376c\\033[31m\\300\\n'\n")));
  auto id = std::to_string(enqueue("default", "binary"));
  auto r = worker({"--max-tasks", "1"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = " + id) == "succeeded");
  BOOST_TEST(sql_text("SELECT hex(CAST(result AS BLOB)) FROM tasks WHERE id = " + id) == "610062FFFE631B5B33316DC00A");

  auto shown = queue({"show", id});
  BOOST_TEST(shown.exit_code == 0, shown.err);
  BOOST_TEST(shown.out.find('\0') == std::string::npos);
  BOOST_TEST(shown.out.find('\033') == std::string::npos);
  BOOST_TEST(shown.out.find("a\\x00b") != std::string::npos, shown.out);

  auto as_json = queue({"show", id, "--json"});
  BOOST_TEST(as_json.exit_code == 0, as_json.err);
  json doc;
  BOOST_REQUIRE_NO_THROW(doc = json::parse(as_json.out));
  auto result = doc["result"].get<std::string>();
  BOOST_TEST(result.starts_with(std::string("a\0b", 3)), result);
  BOOST_TEST(result.find("\xEF\xBF\xBD") != std::string::npos, result);  // invalid bytes as U+FFFD
  auto listed = queue({"list", "default", "--json"});
  BOOST_TEST(listed.exit_code == 0, listed.err);
  BOOST_TEST(json::accept(listed.out), listed.out);
}

// A payload far larger than a pipe's buffer (1 MiB, the default queue.max_payload) for handlers that never read
// it: one that exits at once succeeds (the worker sees EPIPE, not SIGPIPE), one that keeps running is stopped at
// its timeout (the worker never blocks writing to it).
BOOST_FIXTURE_TEST_CASE(a_handler_that_never_reads_a_large_payload_does_not_block_the_worker, CliFixture) {
  write_config(handler_toml("deaf", write_script("deaf.sh", "echo deaf\n")) +
               handler_toml("stuck", write_script("stuck.sh", "exec sleep 30\n"), "timeout = \"1s\""));
  auto payload = "\"" + std::string((1 << 20) - 64, 'p') + "\"";
  oos::test::write_file(dir() / "payload.json", payload);
  auto deaf = enqueue("default", "deaf", {"--data", "@" + (dir() / "payload.json").string()});
  auto stuck = enqueue("default", "stuck", {"--data", "@" + (dir() / "payload.json").string(), "--max-attempts", "1"});
  auto r = worker({"--max-tasks", "2"}, {}, oos::test::scaled(std::chrono::seconds(20)));
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status || '/' || result FROM tasks WHERE id = " + std::to_string(deaf)) ==
             "succeeded/deaf\n");
  BOOST_TEST(sql_text("SELECT status || '/' || last_error FROM tasks WHERE id = " + std::to_string(stuck)) ==
             "dead/timed out after 1s");
  auto took = logged_seconds(r.err, "task " + std::to_string(stuck) + ": started", "dead after");
  BOOST_TEST((took >= 1.0 && took < 3.0), took);
}

// A handler that closes stdout and keeps running: the run ends when the handler ends, not at the end of its
// output, and the result is what it printed before.
BOOST_FIXTURE_TEST_CASE(a_handler_that_closes_stdout_early_is_waited_for, CliFixture) {
  auto done = dir() / "done";
  write_config(handler_toml("early", write_script("early.sh", "echo partial\nexec >&-\nsleep 1\necho finished > '" +
                                                                  done.string() + "'\nexit 0\n")));
  auto id = std::to_string(enqueue("default", "early"));
  auto r = worker({"--max-tasks", "1"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status || '/' || result FROM tasks WHERE id = " + id) == "succeeded/partial\n");
  BOOST_TEST(oos::test::read_file(done) == "finished\n");  // it ran to its end
  auto took = logged_seconds(r.err, "started (type", "succeeded in");
  BOOST_TEST(took >= 1.0, took);
}

BOOST_AUTO_TEST_SUITE_END()
