// The maintenance timers under a real systemd: each fires its oneshot service, and the integrity timer
// recovers a corrupted database from the backup that the backup timer made, while a worker runs.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

#include "system/oos_container.hpp"

using oos::test::k_as_oos;
using oos::test::OosContainer;
using oos::test::wait_until;
using namespace std::chrono_literals;

namespace {

// Fires the timer one second after it starts instead of on its calendar.
constexpr const char* k_soon = "[Timer]\nOnCalendar=\nRandomizedDelaySec=0\nOnActiveSec=1s\n";

// Starts oos-<tool>.timer with k_soon and waits for its service's run to end; the service's exit status.
std::string fire(OosContainer& c, const std::string& tool) {
  auto timer = "oos-" + tool + ".timer", service = "oos-" + tool + ".service";
  c.drop_in(timer, "test", k_soon);
  c.must("systemctl start " + timer);
  bool ran = wait_until(
      [&] {
        return c.property(service, "ExecMainExitTimestampMonotonic") != "0" &&
               c.property(service, "ActiveState") != "activating";
      },
      30s);
  BOOST_TEST_REQUIRE(ran,
                     service + " did not run: " + c.sh("journalctl --no-pager -u " + timer + " -u " + service).out);
  return c.property(service, "ExecMainStatus");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(timers)

BOOST_AUTO_TEST_CASE(each_timer_fires_its_service_which_exits_0) {
  OosContainer c("timers");
  for (const auto* tool : {"backup", "integrity", "cleanup"}) {
    BOOST_TEST(fire(c, tool) == "0", tool);
    BOOST_TEST(c.property(std::string("oos-") + tool + ".service", "Result") == "success", tool);
  }
  BOOST_TEST(c.sh("ls /var/lib/oos/backups/oos-*.db").exit_code == 0);
  auto events = c.must(k_as_oos +
                       "sqlite3 /var/lib/oos/oos.db "
                       "\"SELECT kind FROM events WHERE kind IN ('backup.created','integrity.ok','cleanup.run')\"");
  BOOST_TEST(events == "backup.created\nintegrity.ok\ncleanup.run\n");
}

BOOST_AUTO_TEST_CASE(the_integrity_timer_recovers_a_corrupted_database_from_the_backup_timers_backup) {
  OosContainer c("recovery");
  c.drop_in("oos-worker@.service", "test", "[Service]\nRestartSec=1\n");
  c.must("systemctl start oos-worker@1.service");
  // 200 tasks of 3 KB on a paused queue: the middle of the file is task data the worker leaves alone.
  BOOST_TEST_REQUIRE(c.queue("pause bulk").exit_code == 0);
  std::string lines;
  for (int i = 0; i < 200; ++i) lines += R"({"type":"ok","data":{"pad":")" + std::string(3000, 'x') + "\"}}\n";
  BOOST_TEST_REQUIRE(c.sh(k_as_oos + "/opt/oos/bin/oos-queue enqueue bulk --batch", lines).exit_code == 0);
  BOOST_TEST_REQUIRE(fire(c, "backup") == "0");

  c.must(
      "f=/var/lib/oos/oos.db; pages=$(( $(stat -c %s $f) / 4096 )); "
      "dd if=/dev/urandom of=$f bs=4096 seek=$((pages / 2)) count=4 conv=notrunc status=none");
  auto status = fire(c, "integrity");
  auto journal = c.sh("journalctl --no-pager -u oos-integrity.service").out;
  BOOST_TEST(status == "1", journal);  // corrupt and recovered: a failed unit, for attention (docs/decisions.md)
  BOOST_TEST(c.property("oos-integrity.service", "Result") == "exit-code", journal);
  auto detail = c.must("sqlite3 /var/lib/oos/oos.db \"SELECT detail FROM events WHERE kind = 'integrity.recovered'\"");
  auto backup = c.must("cd /var/lib/oos/backups && ls oos-*.db");
  BOOST_TEST(detail.find(backup.substr(0, backup.size() - 1)) != std::string::npos, detail);

  // The worker carries on (after a restart if it noticed the file replaced under it).
  auto id = c.enqueue("ok");
  BOOST_TEST(wait_until([&] { return c.task_state(id) == "succeeded"; }, 20s),
             c.task_state(id) + "\n" + c.sh("journalctl --no-pager -u oos-worker@1.service").out);
  BOOST_TEST(c.must(k_as_oos + "/opt/oos/bin/oos-queue stats bulk --json").find("\"pending\":200") !=
             std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
