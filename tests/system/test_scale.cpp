// oos-scale under a real systemd: its unit (user oos, allowed by the polkit rule) starts exactly as many
// worker instances as the queue needs, and stops them again when the queue is drained.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <set>
#include <sstream>
#include <string>

#include "system/oos_container.hpp"

using oos::test::k_as_oos;
using oos::test::OosContainer;
using oos::test::wait_until;
using namespace std::chrono_literals;

namespace {

// The names of the oos-worker@N instances that are active, sorted ("oos-worker@1.service\n...").
std::string active_workers(OosContainer& c) {
  std::istringstream lines(c.sh("systemctl list-units --all --plain --no-legend --no-pager 'oos-worker@*'").out);
  std::set<std::string> active;
  std::string unit, load, state;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    if (fields >> unit >> load >> state && state == "active") active.insert(unit);
  }
  std::string out;
  for (const auto& name : active) out += name + "\n";
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(scale)

BOOST_AUTO_TEST_CASE(a_deep_queue_brings_up_five_workers_and_a_drained_one_brings_it_back_to_one) {
  OosContainer c("scale");
  std::string lines;
  for (int i = 0; i < 450; ++i) lines += "{\"type\":\"ok\"}\n";
  BOOST_TEST_REQUIRE(c.sh(k_as_oos + "/opt/oos/bin/oos-queue enqueue default --batch", lines).exit_code == 0);

  auto first = c.sh("systemctl start oos-scale.service");
  auto journal = [&] { return c.sh("journalctl --no-pager -u oos-scale.service").out; };
  BOOST_TEST_REQUIRE(first.exit_code == 0, first.err + journal());
  const std::string five =
      "oos-worker@1.service\noos-worker@2.service\noos-worker@3.service\noos-worker@4.service\n"
      "oos-worker@5.service\n";
  auto units = [&] { return c.sh("systemctl list-units --all --no-pager 'oos-worker@*'").out; };
  BOOST_TEST_REQUIRE(wait_until([&] { return active_workers(c) == five; }, 30s),
                     active_workers(c) + units() + c.sh("journalctl --no-pager -n 30 -u 'oos-worker@*'").out);
  BOOST_TEST(journal().find("450 runnable") != std::string::npos, journal());

  BOOST_TEST_REQUIRE(
      wait_until([&] { return c.queue("stats default --json").out.find("\"succeeded\":450") != std::string::npos; },
                 60s),
      c.queue("stats default").out);
  BOOST_TEST_REQUIRE(c.sh("systemctl start oos-scale.service").exit_code == 0, journal());
  BOOST_TEST(wait_until([&] { return active_workers(c) == "oos-worker@1.service\n"; }, 60s),
             active_workers(c) + journal());
  auto events = c.must(k_as_oos +
                       "sqlite3 /var/lib/oos/oos.db \"SELECT count(*) FROM events WHERE kind = "
                       "'scale.changed'\"");
  BOOST_TEST(events == "2\n");
}

BOOST_AUTO_TEST_SUITE_END()
