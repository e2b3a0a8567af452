// oos-scale on a shared PostgreSQL (docs/reference.md sections 18 and 19): each host decides from the shared queue
// depth, counts its own workers and keeps its own samples. The two hosts are two state directories whose runs of
// oos-scale get their own host names (a UTS namespace each: unshare(1), as root). Without systemd: scale.manager =
// "none" decides and reports (tests/cli/test_scale_cli.cpp on SQLite).
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>
#include <string>

#include "pg/schema.hpp"
#include "pg_support.hpp"

using nlohmann::json;

namespace oos::test {
namespace {

util::RunResult scale_as(PgHosts& f, const std::string& host, const std::filesystem::path& state_dir,
                         const std::vector<std::string>& args) {
  return f.run_as_host(host, "OOS_SCALE_BIN", state_dir, args);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_scale)

BOOST_FIXTURE_TEST_CASE(a_host_scales_from_the_tasks_another_host_enqueued, PgHosts) {
  write_config("[scale]\nmanager = \"none\"\n");
  std::string lines;
  for (int i = 0; i < 250; ++i) lines += "{\"type\":\"job\"}\n";
  BOOST_TEST_REQUIRE(queue_at(host_b, {"enqueue", "default", "--batch"}, lines).exit_code == 0);

  auto a = scale_as(*this, "host-a", state_dir(), {"--json"});
  BOOST_TEST_REQUIRE(a.exit_code == 0, a.err);
  auto doc = json::parse(a.out);
  BOOST_TEST(doc["desired"] == 3);  // ceil(250 / scale.tasks_per_worker 100)
  BOOST_TEST(doc["current"] == 0);
  BOOST_TEST(doc["applied"] == false);
  BOOST_TEST(doc["reasons"][0].get<std::string>().find("250 runnable") != std::string::npos, doc.dump());
  BOOST_TEST(pg_int("SELECT count(*) FROM samples WHERE host = 'host-a' AND runnable = 250") == 1);
  // Nothing of host A's went to its state directory's SQLite file.
  BOOST_TEST(!std::filesystem::exists(db_path()));
}

BOOST_FIXTURE_TEST_CASE(each_host_counts_its_own_workers_and_keeps_its_own_samples, PgHosts) {
  write_config("[scale]\nmanager = \"none\"\n");
  const auto now = util::SystemClock().now();
  auto c = connect();
  pg::migrate(c);  // as the first tool to connect would
  for (const auto& [name, host] : {std::pair{"host-a:1", "host-a"}, {"host-b:1", "host-b"}, {"host-b:2", "host-b"}})
    c.exec_params("INSERT INTO workers (name, pid, host, started_at, heartbeat_at) VALUES ($1, 1, $2, $3, $3)",
                  {std::string(name), std::string(host), std::to_string(now)});

  auto a = scale_as(*this, "host-a", state_dir(), {"--json"});
  BOOST_TEST_REQUIRE(a.exit_code == 0, a.err);
  BOOST_TEST(json::parse(a.out)["current"] == 1);
  auto b = scale_as(*this, "host-b", host_b, {"--json"});
  BOOST_TEST_REQUIRE(b.exit_code == 0, b.err);
  BOOST_TEST(json::parse(b.out)["current"] == 2);
  auto b_again = scale_as(*this, "host-b", host_b, {"--json"});
  BOOST_TEST_REQUIRE(b_again.exit_code == 0, b_again.err);
  BOOST_TEST(pg_int("SELECT count(*) FROM samples WHERE host = 'host-a'") == 1);
  BOOST_TEST(pg_int("SELECT count(*) FROM samples WHERE host = 'host-b'") == 2);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace oos::test
