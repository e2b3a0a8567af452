// oos-cleanup on a shared PostgreSQL (docs/reference.md sections 8.6 and 19): the disks, the rules, the action log
// and the textfiles stay this host's; task retention, the counters' fold, the silent workers' rows and the events go
// to the shared database. Retention deletes in batches, each its own transaction, skipping rows another transaction
// holds, so a cleanup never waits on (nor holds up for long) the workers of any host.
#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "pg/schema.hpp"
#include "pg/values.hpp"
#include "pg_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace oos::test {
namespace {

constexpr std::int64_t k_day_ms = 86'400'000;

// `n` tasks of queue `default` that finished as `status` `age_ms` ago (the queue registered as enqueue does).
void insert_finished(pg::Connection& c, int n, const std::string& status, std::int64_t age_ms) {
  const auto at = now_ms() - age_ms;
  c.exec_params("INSERT INTO queues (name, updated_at) VALUES ('default', $1) ON CONFLICT DO NOTHING", {pg::param(at)});
  c.exec_params(
      "INSERT INTO tasks (queue, type, payload, status, run_at, attempts, max_attempts, created_at, updated_at, "
      "finished_at) SELECT 'default', 'job', '{}', $1, $2, 1, 3, $2, $2, $2 FROM generate_series(1, $3)",
      {status, pg::param(at), pg::param(n)});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_cleanup)

BOOST_FIXTURE_TEST_CASE(retention_purges_in_batches_past_a_row_another_transaction_holds, PgHosts) {
  const fs::path metrics = dir() / "metrics";
  fs::create_directories(metrics);
  write_config(fmt::format("[metrics]\ntextfile_dir = \"{}\"\n", metrics.string()));
  auto c = connect();
  pg::migrate(c);                                       // as the first tool to connect would
  insert_finished(c, 2500, "succeeded", 8 * k_day_ms);  // past queue.succeeded_retention (7d): three batches
  insert_finished(c, 10, "succeeded", 3'600'000);       // within it
  insert_finished(c, 4, "dead", 31 * k_day_ms);         // past queue.dead_retention (30d)
  // Counters of a minute two days old in four shards, and of the current minute: the old ones fold into the totals.
  const auto minute = now_ms() / 60'000;
  c.exec_params(
      "INSERT INTO queue_counters (queue, minute, shard, runs, failures, run_ms) SELECT 'default', $1, s, 5, 1, 100 "
      "FROM generate_series(0, 3) AS s",
      {pg::param(minute - 2 * 1440)});
  c.exec_params(
      "INSERT INTO queue_counters (queue, minute, shard, runs, failures, run_ms) VALUES ('default', $1, 1, "
      "2, 0, 10)",
      {pg::param(minute)});

  auto dry = cleanup({"--dry-run", "--json"});
  BOOST_TEST_REQUIRE(dry.exit_code == 0, dry.err);
  BOOST_TEST(json::parse(dry.out)["succeeded_tasks"] == 2500, dry.out);
  BOOST_TEST(json::parse(dry.out)["dead_tasks"] == 4, dry.out);
  BOOST_TEST(pg_int("SELECT count(*) FROM tasks") == 2514);

  // Another host's transaction holds the oldest of the old tasks: the purge passes it by instead of waiting.
  auto holder = connect();
  auto held = std::make_unique<pg::Transaction>(holder);
  const auto held_id = pg::int_at(
      holder.exec_params("SELECT id FROM tasks WHERE status = 'succeeded' ORDER BY id LIMIT 1 FOR UPDATE"), 0, 0);
  const auto started = std::chrono::steady_clock::now();
  auto run = start("OOS_CLEANUP_BIN", {"--json"});
  BOOST_TEST_REQUIRE(run->wait(scaled(std::chrono::seconds(20))) == 0, run->err());
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  BOOST_TEST_MESSAGE("oos-cleanup purged 2503 tasks past a held row in " << took.count() << " ms");
  auto doc = json::parse(run->out());
  BOOST_TEST(doc["succeeded_tasks"] == 2499, run->out());
  BOOST_TEST(doc["dead_tasks"] == 4, run->out());
  BOOST_TEST(pg_int("SELECT count(*) FROM tasks WHERE status = 'succeeded'") == 11);
  BOOST_TEST(pg_int("SELECT count(*) FROM tasks WHERE id = " + std::to_string(held_id)) == 1);
  BOOST_TEST(pg_int("SELECT count(*) FROM tasks WHERE status = 'dead'") == 0);
  BOOST_TEST(pg_int("SELECT count(*) FROM queue_counters WHERE minute > 0 AND minute < " + std::to_string(minute)) ==
             0);
  BOOST_TEST(pg_int("SELECT runs FROM queue_counters WHERE minute = 0") == 20);
  BOOST_TEST(pg_int("SELECT sum(runs) FROM queue_counters") == 22);  // the totals stay whole
  BOOST_TEST(pg_int("SELECT count(*) FROM events WHERE kind = 'cleanup.run' AND object LIKE 'host/%'") == 1);
  BOOST_TEST(pg_int("SELECT count(*) FROM events WHERE kind = 'task.purge'") == 1);
  // What is this host's stays on this host: the action log in its state directory, no SQLite file.
  BOOST_TEST(fs::exists(state_dir() / "cleanup_logs"));
  BOOST_TEST(!fs::exists(db_path()));

  held.reset();  // the other transaction ends: the next run takes the row
  auto again = cleanup({"--json"});
  BOOST_TEST_REQUIRE(again.exit_code == 0, again.err);
  BOOST_TEST(json::parse(again.out)["succeeded_tasks"] == 1, again.out);
  BOOST_TEST(pg_int("SELECT count(*) FROM tasks") == 10);
  // The job's history is read from the shared events: two runs.
  const auto prom = read_file(metrics / "oos_cleanup.prom");
  BOOST_TEST(prom.find("\noos_cleanup_runs_succeeded_total 2\n") != std::string::npos, prom);
}

BOOST_FIXTURE_TEST_CASE(rows_of_workers_silent_for_a_day_on_any_host_are_removed, PgHosts) {
  auto c = connect();
  pg::migrate(c);  // as the first tool to connect would
  const auto now = now_ms();
  for (const auto& [name, host, age] : {std::tuple{"host-a:1", "host-a", 25 * 3'600'000LL},
                                        {"host-b:1", "host-b", 26 * 3'600'000LL},
                                        {"host-b:2", "host-b", 60'000LL}})
    c.exec_params("INSERT INTO workers (name, pid, host, started_at, heartbeat_at) VALUES ($1, 1, $2, $3, $3)",
                  {std::string(name), std::string(host), pg::param(now - age)});
  auto dry = cleanup({"--dry-run", "--json"});
  BOOST_TEST_REQUIRE(dry.exit_code == 0, dry.err);
  BOOST_TEST(json::parse(dry.out)["silent_workers"] == 2);
  BOOST_TEST(pg_int("SELECT count(*) FROM workers") == 3);
  auto r = cleanup({"--json"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(json::parse(r.out)["silent_workers"] == 2);
  BOOST_TEST(pg_text("SELECT string_agg(name, ',') FROM workers") == "host-b:2");
}

// Each host's oos_cleanup.prom counts its own runs: the events are shared, so they name their host.
BOOST_FIXTURE_TEST_CASE(each_host_s_job_metrics_count_its_own_runs, PgHosts) {
  const fs::path metrics = dir() / "metrics";
  fs::create_directories(metrics);
  write_config(fmt::format("[metrics]\ntextfile_dir = \"{}\"\n", metrics.string()));
  for (const char* host : {"host-a", "host-a", "host-b"}) {
    auto r = run_as_host(host, "OOS_CLEANUP_BIN", host == std::string("host-a") ? state_dir() : host_b, {});
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  }
  BOOST_TEST(pg_int("SELECT count(*) FROM events WHERE kind = 'cleanup.run' AND object = 'host/host-a'") == 2);
  const auto prom = read_file(metrics / "oos_cleanup.prom");  // host-b's, the last written
  BOOST_TEST(prom.find("\noos_cleanup_runs_succeeded_total 1\n") != std::string::npos, prom);
  BOOST_TEST(prom.find("\noos_cleanup_runs_failed_total 0\n") != std::string::npos, prom);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace oos::test
