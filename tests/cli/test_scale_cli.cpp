// oos-scale without systemd: scale.manager = "none" and --dry-run decide and report, touch nothing; a real
// run that cannot reach systemd is 69 with one line, and still records its sample. (Under systemd:
// tests/system/test_scale.cpp.)
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>
#include <string>

#include "cli/cli_support.hpp"

using nlohmann::json;
using oos::test::CliFixture;

namespace {

// A bus address where nothing listens: as on a host without systemd.
const std::string k_no_bus = "DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/oos-test-bus";

void enqueue_many(CliFixture& f, int n) {
  std::string lines;
  for (int i = 0; i < n; ++i) lines += "{\"type\":\"job\"}\n";
  BOOST_TEST_REQUIRE(f.queue({"enqueue", "default", "--batch"}, lines).exit_code == 0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(scale_cli)

BOOST_FIXTURE_TEST_CASE(manager_none_decides_from_the_queue_and_changes_nothing, CliFixture) {
  write_config("[scale]\nmanager = \"none\"\n");
  enqueue_many(*this, 250);
  auto scale = start("OOS_SCALE_BIN", {"--json"}, {k_no_bus});
  BOOST_TEST_REQUIRE(scale->wait(oos::test::scaled(std::chrono::seconds(10))) == 0, scale->err());
  auto doc = json::parse(scale->out());
  BOOST_TEST(doc["current"] == 0);
  BOOST_TEST(doc["desired"] == 3);
  BOOST_TEST(doc["applied"] == false);
  BOOST_TEST(doc["actions"].empty());
  BOOST_TEST(doc["reasons"][0].get<std::string>().find("250 runnable") != std::string::npos, doc.dump());
  BOOST_TEST(sql_int("SELECT count(*) FROM samples WHERE runnable = 250") == 1);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'scale.changed'") == 0);
}

BOOST_FIXTURE_TEST_CASE(without_systemd_a_dry_run_reports_and_a_real_run_is_69, CliFixture) {
  enqueue_many(*this, 50);
  auto dry = start("OOS_SCALE_BIN", {"--dry-run", "--json"}, {k_no_bus});
  BOOST_TEST_REQUIRE(dry->wait(oos::test::scaled(std::chrono::seconds(10))) == 0, dry->err());
  BOOST_TEST(json::parse(dry->out())["desired"] == 1);
  BOOST_TEST(dry->err().find("--dry-run goes on with the workers' heartbeats") != std::string::npos, dry->err());

  auto real = start("OOS_SCALE_BIN", {}, {k_no_bus});
  BOOST_TEST(real->wait(oos::test::scaled(std::chrono::seconds(10))) == 69, real->err());
  BOOST_TEST(real->err().find("oos-scale: error: cannot connect to the system bus") != std::string::npos, real->err());
  // Both runs sampled the host: the load history the next decision reads has no gap.
  BOOST_TEST(sql_int("SELECT count(*) FROM samples WHERE runnable = 50") == 2);
}

BOOST_AUTO_TEST_SUITE_END()
