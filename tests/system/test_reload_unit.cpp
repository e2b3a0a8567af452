// `systemctl reload` of oos-worker@N and of oos.target under a real systemd (issue 17): ExecReload= sends SIGHUP,
// the worker reads /etc/oos/oos.toml again; a task running across the reload finishes with its handler, the next
// one runs the new handler, a broken file leaves the worker active, and the target reaches every instance.
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

#include "system/oos_container.hpp"

using oos::test::OosContainer;
using oos::test::system_test_config;
using oos::test::wait_until;
using namespace std::chrono_literals;

namespace {

const std::string k_worker = "oos-worker@1.service";

// The test config with a handler `version` that prints `version`, and `extra` lines after it.
std::string config_with_version(const std::string& version, const std::string& extra = "") {
  return system_test_config() + "\n[handlers.version]\ncommand = [\"/bin/echo\", \"" + version + "\"]\n" + extra;
}

void start(OosContainer& c, const std::string& unit) {
  c.must("systemctl start " + unit);
  BOOST_TEST_REQUIRE(c.property(unit, "ActiveState") == "active");
}

std::string journal(OosContainer& c, const std::string& unit) {
  c.sh("journalctl --sync");
  return c.sh("journalctl --no-pager -o cat -u " + unit).out;
}

// Waits until `unit`'s journal holds `text` `times` times.
bool journal_shows(OosContainer& c, const std::string& unit, const std::string& text, std::size_t times = 1) {
  return wait_until(
      [&] {
        auto lines = journal(c, unit);
        std::size_t found = 0;
        for (auto at = lines.find(text); at != std::string::npos; at = lines.find(text, at + 1)) ++found;
        return found >= times;
      },
      10s);
}

std::string result_of(OosContainer& c, long long id) {
  auto r = c.queue("show " + std::to_string(id) + " --json");
  if (r.exit_code != 0) return "unknown (" + r.err + ")";
  auto doc = nlohmann::json::parse(r.out);
  return doc.at("result").is_string() ? doc.at("result").get<std::string>() : doc.at("result").dump();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reload_unit)

BOOST_AUTO_TEST_CASE(a_task_runs_across_the_reload_with_its_handler_and_the_next_runs_the_new_one) {
  OosContainer c("reload", config_with_version("v1"));
  start(c, k_worker);
  auto pid = c.property(k_worker, "MainPID");
  auto across = c.enqueue("sleep", R"({"seconds":3})");
  BOOST_TEST_REQUIRE(wait_until([&] { return c.task_state(across) == "running"; }, 10s));

  // The new file gives `sleep` a 1 s timeout: a task run with it would time out, one finished with its own does not.
  auto text = config_with_version("v2", "\n[handlers.added]\ncommand = [\"/bin/echo\", \"added\"]\n");
  const std::string sleep_table = "[handlers.sleep]\n";
  BOOST_TEST_REQUIRE(text.find(sleep_table) != std::string::npos);
  text.insert(text.find(sleep_table) + sleep_table.size(), "timeout = \"1s\"\n");
  c.must("cat > /etc/oos/oos.toml", text);
  auto reload = c.sh("systemctl reload " + k_worker);
  BOOST_TEST(reload.exit_code == 0, reload.err);
  BOOST_TEST_REQUIRE(journal_shows(c, k_worker,
                                   "reloaded the configuration from '/etc/oos/oos.toml': "
                                   "handler 'added' added, handler 'sleep' changed, handler 'version' changed"),
                     journal(c, k_worker));
  // Not cut: it succeeds on its first attempt, under the handler it started with (the new 1 s timeout would have
  // stopped its 3 s sleep). Whether it is still running at this point depends on the machine's speed, so it is
  // not asserted.
  BOOST_TEST_REQUIRE(wait_until([&] { return c.task_state(across) == "succeeded"; }, 15s), c.task_state(across));
  BOOST_TEST(c.task_attempts(across) == 1);

  auto next = c.enqueue("version");
  auto added = c.enqueue("added");
  BOOST_TEST_REQUIRE(wait_until([&] { return c.task_state(added) == "succeeded"; }, 10s), journal(c, k_worker));
  BOOST_TEST(result_of(c, next) == "v2\n");
  BOOST_TEST(result_of(c, added) == "added\n");
  BOOST_TEST(c.property(k_worker, "ActiveState") == "active");
  BOOST_TEST(c.property(k_worker, "MainPID") == pid);  // the same process: reloaded, not restarted
  BOOST_TEST(c.property(k_worker, "NRestarts") == "0");
}

BOOST_AUTO_TEST_CASE(a_broken_file_leaves_the_worker_active_with_its_handlers) {
  OosContainer c("reloadbad", config_with_version("v1"));
  start(c, k_worker);
  auto pid = c.property(k_worker, "MainPID");
  // Broken, and with another handler: nothing of it may be taken.
  c.must("cat > /etc/oos/oos.toml", config_with_version("v2", "\n[no_such_table]\nkey = 1\n"));
  auto reload = c.sh("systemctl reload " + k_worker);
  BOOST_TEST(reload.exit_code == 0, reload.err);
  BOOST_TEST_REQUIRE(journal_shows(c, k_worker, "cannot reload the configuration: /etc/oos/oos.toml:"),
                     journal(c, k_worker));
  auto lines = journal(c, k_worker);
  auto line = lines.substr(lines.find("cannot reload the configuration"));
  line = line.substr(0, line.find('\n'));
  BOOST_TEST(line.find("no_such_table") != std::string::npos, line);
  BOOST_TEST(wait_until([&] { return c.property(k_worker, "ActiveState") == "active"; }, 5s));
  BOOST_TEST(c.property(k_worker, "MainPID") == pid);
  c.must("cat > /etc/oos/oos.toml", config_with_version("v1"));  // for oos-queue; the worker is not told
  auto id = c.enqueue("version");
  BOOST_TEST_REQUIRE(wait_until([&] { return c.task_state(id) == "succeeded"; }, 10s), journal(c, k_worker));
  BOOST_TEST(result_of(c, id) == "v1\n");
  BOOST_TEST(c.property(k_worker, "NRestarts") == "0");
}

BOOST_AUTO_TEST_CASE(reloading_the_target_reloads_every_worker_instance) {
  OosContainer c("reloadall", config_with_version("v1"));
  c.must("systemctl start oos.target");
  start(c, "oos-worker@2.service");
  BOOST_TEST_REQUIRE(c.wait_for_property(k_worker, "ActiveState", "active", 10s));
  auto pid1 = c.property(k_worker, "MainPID");
  auto pid2 = c.property("oos-worker@2.service", "MainPID");
  c.must("cat > /etc/oos/oos.toml", config_with_version("v2"));
  auto reload = c.sh("systemctl reload oos.target");
  BOOST_TEST_REQUIRE(reload.exit_code == 0, reload.err);
  for (const auto* unit : {"oos-worker@1.service", "oos-worker@2.service"})
    BOOST_TEST(journal_shows(c, unit, "reloaded the configuration from '/etc/oos/oos.toml': handler 'version' changed"),
               unit << "\n"
                    << journal(c, unit));
  BOOST_TEST(c.property(k_worker, "MainPID") == pid1);
  BOOST_TEST(c.property("oos-worker@2.service", "MainPID") == pid2);
  // Whichever instance runs them, they run the new handler.
  auto a = c.enqueue("version");
  auto b = c.enqueue("version");
  BOOST_TEST_REQUIRE(wait_until([&] { return c.task_state(a) == "succeeded" && c.task_state(b) == "succeeded"; }, 10s));
  BOOST_TEST(result_of(c, a) == "v2\n");
  BOOST_TEST(result_of(c, b) == "v2\n");
}

BOOST_AUTO_TEST_SUITE_END()
