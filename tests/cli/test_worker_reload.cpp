// oos-worker and SIGHUP (`systemctl reload oos-worker@N`, issue 17): the configuration is read again while the
// worker runs; the next task runs the new handler, a running one finishes with the handler it started with, and
// a file the worker refuses leaves it running as it was.
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <chrono>
#include <string>

#include "cli/cli_support.hpp"

using oos::test::BackgroundProcess;
using oos::test::CliFixture;
using oos::test::eventually;
using oos::test::handler_toml;
using oos::test::KillAtExit;
using oos::test::log_line;
using oos::test::scaled;
using oos::test::wait_for_gate;
using oos::test::write_file;
using namespace std::chrono_literals;

namespace {

// The number of lines of `err` (JSON lines) that contain `text`.
std::size_t lines_with(const std::string& err, const std::string& text) {
  std::size_t count = 0;
  for (std::size_t at = err.find(text); at != std::string::npos; at = err.find(text, at + text.size())) ++count;
  return count;
}

bool logged(BackgroundProcess& worker, const std::string& text, std::size_t times = 1) {
  return eventually([&] { return lines_with(worker.err(), text) >= times; }, scaled(10s), {&worker});
}

std::string result_of(CliFixture& f, long long id) {
  return f.sql_text("SELECT status || '/' || coalesce(result, '') FROM tasks WHERE id = " + std::to_string(id));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(worker_reload)

BOOST_FIXTURE_TEST_CASE(the_next_task_runs_the_new_handler_and_the_running_one_finishes_with_the_old, CliFixture) {
  KillAtExit cleanup(dir() / "handler.pid", KillAtExit::Target::group);
  auto gate = dir() / "gate";
  auto old_handler = write_script(
      "old.sh", "echo $$ > '" + (dir() / "handler.pid").string() + "'\n" + wait_for_gate(gate) + "echo old\n");
  write_config("[worker]\npoll_interval = \"100ms\"\n\n" + handler_toml("job", old_handler));
  auto running = enqueue("default", "job");
  auto w = start_worker({"--name", "A"});
  BOOST_TEST_REQUIRE(eventually([&] { return std::filesystem::exists(dir() / "handler.pid"); }, scaled(10s), {w.get()}),
                     w->err());

  write_config("[worker]\npoll_interval = \"100ms\"\n\n" + handler_toml("job", write_script("new.sh", "echo new\n")) +
               "\n" + handler_toml("added", write_script("added.sh", "echo added\n")));
  w->signal(SIGHUP);
  BOOST_TEST_REQUIRE(logged(*w, "reloaded the configuration from '" + config_path().string() +
                                    "': handler 'added' added, handler 'job' changed"),
                     w->err());
  auto next = enqueue("default", "job");
  auto added = enqueue("default", "added");
  write_file(gate, "");
  BOOST_TEST_REQUIRE(
      eventually([&] { return result_of(*this, added).starts_with("succeeded"); }, scaled(10s), {w.get()}), w->err());
  BOOST_TEST(result_of(*this, running) == "succeeded/old\n");
  BOOST_TEST(result_of(*this, next) == "succeeded/new\n");
  BOOST_TEST(result_of(*this, added) == "succeeded/added\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM task_attempts WHERE outcome <> 'succeeded'") == 0);
  w->signal(SIGTERM);
  BOOST_TEST(w->wait(scaled(10s)) == 0, w->err());
}

BOOST_FIXTURE_TEST_CASE(a_broken_file_is_one_error_line_and_the_worker_goes_on_as_it_was, CliFixture) {
  auto config = "[worker]\npoll_interval = \"100ms\"\n\n" + handler_toml("job", write_script("v1.sh", "echo v1\n"));
  write_config(config);
  auto w = start_worker({"--name", "A"});
  BOOST_TEST_REQUIRE(logged(*w, "worker 'A' started"), w->err());

  // Broken, and with another handler: nothing of it may be taken.
  write_config("[queue]\nno_such_key = 1\n\n[worker]\npoll_interval = \"100ms\"\n\n" +
               handler_toml("job", write_script("v2.sh", "echo v2\n")));
  w->signal(SIGHUP);
  BOOST_TEST_REQUIRE(logged(*w, "cannot reload the configuration: "), w->err());
  BOOST_TEST(lines_with(w->err(), "\"level\":\"error\"") == 1u, w->err());
  auto error_line = log_line(w->err(), "cannot reload");
  BOOST_TEST(error_line.find(config_path().string()) != std::string::npos, error_line);  // the file
  BOOST_TEST(error_line.find("no_such_key") != std::string::npos, error_line);           // the cause
  BOOST_TEST(error_line.find("keeps the one it runs with") != std::string::npos, error_line);

  write_config(config);  // for oos-queue, which reads it too; the worker is not told
  auto id = enqueue("default", "job");
  BOOST_TEST(eventually([&] { return result_of(*this, id) == "succeeded/v1\n"; }, scaled(10s), {w.get()}), w->err());
  BOOST_TEST(w->pump() == false, "the worker exited: " << w->err());  // still running
  w->signal(SIGTERM);
  BOOST_TEST(w->wait(scaled(10s)) == 0, w->err());
}

// At once, not at the end of the poll interval an idle worker sleeps through; what only a restart applies is
// named and kept.
BOOST_FIXTURE_TEST_CASE(an_idle_worker_reloads_at_once_and_names_what_waits_for_a_restart, CliFixture) {
  write_config("[worker]\npoll_interval = \"1m\"\n\n" + handler_toml("job", "/bin/true"));
  auto w = start_worker({"--name", "A"});
  BOOST_TEST_REQUIRE(logged(*w, "worker 'A' started"), w->err());
  write_config("[worker]\npoll_interval = \"1m\"\nqueues = [\"other\"]\n\n" + handler_toml("job", "/bin/false"));
  auto sent = std::chrono::steady_clock::now();
  w->signal(SIGHUP);
  BOOST_TEST_REQUIRE(logged(*w, "handler 'job' changed"), w->err());
  auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  BOOST_TEST(took < std::chrono::duration<double>(scaled(5s)).count(), took);
  const auto waits =
      "worker.queues changed in '" + config_path().string() + "': they take effect when the worker restarts, ignoring";
  BOOST_TEST(logged(*w, waits), w->err());  // its own line, which may come after the handler's
  BOOST_TEST(lines_with(w->err(), waits) == 1u, w->err());
  w->signal(SIGHUP);  // a second reload names it again: it still waits
  BOOST_TEST(logged(*w, "worker.queues changed in", 2), w->err());
  w->signal(SIGTERM);
  BOOST_TEST(w->wait(scaled(10s)) == 0, w->err());
}

BOOST_AUTO_TEST_SUITE_END()
