// pg::PgQueueStore and pg::PgWorkerRegistry against the throwaway PostgreSQL cluster (support/pg_cluster), a schema
// per test, with tasks made by pg::PgTaskStore: what is PostgreSQL's own. The semantics both backends share are the
// store contract (store_contract_cases.hpp, run here by unit.store_contract_pg). Here: the case of
// test_queue_counts.cpp that does not look inside SQLite (status equals a count of the rows after every kind of
// change); the SQLite plan and step checks as EXPLAINs of the statements on ~20k tasks; the worker list's byte order
// under a linguistic collation; and what only a shared server can show: hosts pausing at once, run counters spread over
// shards.
#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include <array>
#include <barrier>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "config.hpp"
#include "error.hpp"
#include "log.hpp"
#include "pg/connection.hpp"
#include "pg/events.hpp"
#include "pg/pg_queue_store.hpp"
#include "pg/pg_task_store.hpp"
#include "pg/pg_worker_registry.hpp"
#include "pg/queue_sql.hpp"
#include "pg/schema.hpp"
#include "pg/values.hpp"
#include "pg_store_fixture.hpp"
#include "support/log_file.hpp"
#include "support/pg_cluster.hpp"
#include "support/printers.hpp"
#include "util/time.hpp"

using namespace oos;
using namespace oos::queue;

namespace {

constexpr util::UnixMillis k_t0 = 1'800'000'000'000;

// A migrated schema of its own, a manual clock, the three stores on one connection and a log file to read back.
struct QueueFixture : test::PgStoreFixture {
  pg::PgQueueStore pg_queues{connection, config, *logger};
  QueueStore& queues = pg_queues;
  pg::PgWorkerRegistry pg_registry{connection};
  WorkerRegistry& registry = pg_registry;

  std::string log_text() { return test::file_text(dir / "oos.log"); }
  // The plan of `sql` with `params`, as JSON text.
  std::string plan(const char* sql, const std::vector<pg::Param>& params) {
    return std::string(connection.exec_params(std::string("EXPLAIN (FORMAT JSON) ") + sql, params).text(0, 0));
  }
};

// What status shows of a queue, each figure counted over the queue's rows, as one comparable string.
std::string status_by_scan(pg::Connection& connection, const std::string& name, util::UnixMillis now) {
  const pg::Result r = connection.exec_params(
      "SELECT (SELECT count(*) FROM tasks WHERE queue = $1 AND status = 'pending'), "
      "(SELECT count(*) FROM tasks WHERE queue = $1 AND status = 'pending' AND run_at <= $2::bigint), "
      "(SELECT count(*) FROM tasks WHERE queue = $1 AND status = 'pending' AND attempts > 0), "
      "(SELECT count(*) FROM tasks WHERE queue = $1 AND status = 'running'), "
      "(SELECT count(*) FROM tasks WHERE queue = $1 AND status = 'succeeded'), "
      "(SELECT count(*) FROM tasks WHERE queue = $1 AND status = 'dead'), "
      "(SELECT count(*) FROM tasks WHERE queue = $1 AND status = 'cancelled'), "
      "(SELECT coalesce(min(run_at), -1) FROM tasks WHERE queue = $1 AND status = 'pending' AND run_at <= $2::bigint)",
      {name, pg::param(now)});
  std::string out;
  for (int i = 0; i < 8; ++i) out += std::to_string(pg::int_at(r, 0, i)) + " ";
  return out;
}
// Whether the plan (EXPLAIN's JSON) has a node `type` ("Index Only Scan") on `index`: the node's keys between its type
// and its index name hold no object.
bool scans(const std::string& plan, const std::string& type, const std::string& index) {
  return std::regex_search(plan, std::regex("\"Node Type\": \"" + type + "\",[^{}]*\"Index Name\": \"" + index + "\""));
}

std::string status_shown(const QueueStatus& s) {
  const auto& c = s.counts;
  return fmt::format("{} {} {} {} {} {} {} {} ", c.pending, c.runnable, c.retrying, c.running, c.succeeded, c.dead,
                     c.cancelled, c.oldest_runnable_since.value_or(-1));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_queue_store)

// --- Status, pause, counters

// Hosts pausing (then resuming) one queue at once: one of them changes the flag, and one event is recorded.
BOOST_FIXTURE_TEST_CASE(hosts_pausing_at_once_record_one_pause, QueueFixture) {
  constexpr int k_hosts = 4;
  constexpr int k_rounds = 10;
  std::vector<pg::Connection> connections;
  for (int i = 0; i < k_hosts; ++i) connections.push_back(connect());
  for (int round = 0; round < k_rounds; ++round) {
    for (const bool paused : {true, false}) {
      std::array<int, k_hosts> changed{};
      std::barrier<> start(k_hosts);
      std::vector<std::thread> threads;
      for (int i = 0; i < k_hosts; ++i)
        threads.emplace_back([&, i] {
          pg::PgQueueStore store(connections[static_cast<std::size_t>(i)], config, *logger);
          start.arrive_and_wait();
          changed[static_cast<std::size_t>(i)] = store.set_paused("shared", paused, clock.now()) ? 1 : 0;
        });
      for (auto& t : threads) t.join();
      BOOST_TEST(changed[0] + changed[1] + changed[2] + changed[3] == 1, "round " << round << " paused " << paused);
    }
  }
  BOOST_TEST(pg::count_events(connection, "queue.pause") == k_rounds);
  BOOST_TEST(pg::count_events(connection, "queue.resume") == k_rounds);
}

// The runs of one minute land in the shards of the connections that completed them (pg_backend_pid() % 16):
// totals, stats and activity sum the shards.
BOOST_FIXTURE_TEST_CASE(totals_stats_and_activity_sum_the_counter_shards, QueueFixture) {
  const std::int64_t minute = clock.now() / 60'000;
  for (int shard = 0; shard < 3; ++shard)
    connection.exec_params(
        "INSERT INTO queue_counters (queue, minute, shard, runs, failures, run_ms) VALUES ('mail', $1, $2, 10, 1, 100)",
        {pg::param(minute), pg::param(shard)});
  connection.exec_params(
      "INSERT INTO queue_counters (queue, minute, shard, runs, failures, run_ms) VALUES ('mail', $1, 5, 4, 4, 40), "
      "('mail', 0, 0, 1000, 7, 9000), ('other', $1, 1, 2, 0, 20)",
      {pg::param(minute - 120)});
  connection.exec_params("INSERT INTO queues (name, updated_at) VALUES ('mail', 0), ('other', 0)");
  auto all = queues.status(clock.now());
  BOOST_REQUIRE(all.size() == 2u);
  BOOST_TEST(all[0].totals.runs == 1034);
  BOOST_TEST(all[0].totals.failures == 14);
  BOOST_TEST(all[0].totals.run_ms == 9340);
  BOOST_TEST(all[1].totals.runs == 2);
  auto stats = queues.stats("mail", clock.now());
  BOOST_REQUIRE(stats);
  BOOST_TEST(stats->runs_last_hour == 30);
  BOOST_TEST(stats->failures_last_hour == 3);
  BOOST_TEST(*stats->mean_run_ms == 10.0);
  auto mail = queues.activity(std::string("mail"), clock.now());
  BOOST_REQUIRE(mail.minutes.size() == 60u);
  BOOST_REQUIRE(mail.hours.size() == 24u);
  BOOST_TEST(mail.minutes[59].runs == 30);
  BOOST_TEST(mail.minutes[59].failures == 3);
  BOOST_TEST(mail.minutes[59].start == minute * 60'000);
  BOOST_TEST(mail.hours[23].runs == 30);
  BOOST_TEST(mail.hours[23 - 2].runs == 4);  // two hours ago, out of the minutes; minute 0 is out of the day
  auto every = queues.activity(std::nullopt, clock.now());
  std::int64_t runs = 0;
  for (const auto& h : every.hours) runs += h.runs;
  BOOST_TEST(runs == 36);
  auto unknown = queues.activity(std::string("nope"), clock.now());
  for (const auto& h : unknown.hours) BOOST_TEST(h.runs == 0);
}

// The tasks that died since a time, per queue (oos-health), are read from the index of dead tasks by when they died:
// its plan walks that range, never all the tasks. (What it counts: the store contract.)
BOOST_FIXTURE_TEST_CASE(dead_since_reads_its_range_from_the_dead_by_finished_index, QueueFixture) {
  auto since = test::four_deaths_a_minute_apart(tasks, clock);  // the last two deaths (60 and 120 s ago)
  bulk_insert(20'000);
  // Half of them died long ago: the range since `since` holds the two recent ones only.
  connection.exec_params("UPDATE tasks SET status = 'dead', finished_at = 1 WHERE id % 2 = 0");
  connection.exec_params("VACUUM ANALYZE tasks");
  auto p = plan(pg::sql::k_dead_since, {pg::param(since)});
  BOOST_TEST(p.find("\"Index Name\": \"tasks_dead_by_finished\"") != std::string::npos, p);
  BOOST_TEST(p.find("\"Seq Scan\"") == std::string::npos, p);
}

// --- Worker registry

// By name in byte order, as on SQLite, whatever the database's collation ("B" before "a"): the column is given the
// linguistic order of a database created with a locale (the test cluster's is C; the byte order in it: the store
// contract).
BOOST_FIXTURE_TEST_CASE(list_is_by_name_in_byte_order_under_a_linguistic_collation, QueueFixture) {
  // (remove(): the store contract.)
  connection.exec_params("ALTER TABLE workers ALTER COLUMN name TYPE text COLLATE \"und-x-icu\"");
  test::four_workers_out_of_order(registry, k_t0);
  auto rows = registry.list();
  BOOST_REQUIRE(rows.size() == 4u);
  BOOST_TEST(rows[0].name == "B");
  BOOST_TEST(rows[1].name == "a");
  BOOST_TEST(rows[2].name == "b");
  BOOST_TEST(rows[3].name == "c");
}

// What each worker runs now is read from the index of running tasks: its plan never walks every task (the dashboard
// asks on every refresh). (What it returns: the store contract.)
BOOST_FIXTURE_TEST_CASE(current_tasks_reads_the_running_tasks_from_their_index, QueueFixture) {
  test::run_two_of_three(tasks);
  BOOST_REQUIRE(registry.current_tasks().size() == 2u);
  bulk_insert(20'000);
  connection.exec_params("UPDATE tasks SET status = 'succeeded', finished_at = 1 WHERE id % 3 = 0");
  connection.exec_params("VACUUM ANALYZE tasks");
  auto p = plan(pg::sql::k_current_tasks, {});
  BOOST_TEST(p.find("\"Index Name\": \"tasks_running\"") != std::string::npos, p);
  BOOST_TEST(p.find("\"Seq Scan\"") == std::string::npos, p);
}

// --- Counts: the plan of status (what status counts: the store contract)

// The status statement on 20k tasks of two queues, most of them finished: every part reads its partial index (the
// pending counts from tasks_pending_by_queue alone, which includes attempts), for every queue and for one, and none
// reads the table by a Seq Scan. What status costs on PostgreSQL: docs/decisions.md, "PostgreSQL queue counts".
BOOST_FIXTURE_TEST_CASE(the_status_counts_read_partial_indexes_and_never_scan_the_tasks, QueueFixture) {
  // Most tasks finished, as where succeeded tasks are kept for days: 85% succeeded, 9% dead, 1% cancelled, 2% running,
  // 3% pending (a fifth of those delayed); a seventh retried. Inserted in their final state, so that each partial
  // index holds what it would in use (a task inserted pending and finished by an UPDATE leaves the pending index as
  // large as the table until it is rebuilt). VACUUM below then sets the visibility map as autovacuum keeps it for
  // rows that stopped changing; but the test cluster commits asynchronously, and VACUUM cannot mark a page
  // all-visible before the commit of its rows is flushed (their hint bits wait for it): without a synchronous commit,
  // the plan was costed as for a table never vacuumed, and read it by Seq Scans (6 runs of 6).
  connection.exec_params("SET synchronous_commit = on");
  connection.exec_params(
      "INSERT INTO tasks (queue, type, payload, status, priority, run_at, attempts, max_attempts, lease_token, "
      "lease_expires_at, created_at, updated_at, finished_at) "
      "SELECT q, 'job', '{}', s, i % 5, CASE WHEN s = 'pending' AND i % 5 = 0 THEN $1::bigint + 3600000 "
      "ELSE $1::bigint - i END, CASE WHEN i % 7 = 0 THEN 1 ELSE 0 END, 10, CASE WHEN s = 'running' THEN 'x' END, "
      "CASE WHEN s = 'running' THEN $1::bigint + i END, $1::bigint, $1::bigint, "
      "CASE WHEN s IN ('succeeded', 'dead', 'cancelled') THEN $1::bigint - i END "
      "FROM (SELECT i, CASE WHEN i <= 20000 THEN 'default' ELSE 'other' END AS q, "
      "CASE WHEN i % 100 < 85 THEN 'succeeded' WHEN i % 100 < 94 THEN 'dead' WHEN i % 100 = 94 THEN 'cancelled' "
      "WHEN i % 100 < 97 THEN 'running' ELSE 'pending' END AS s FROM generate_series(1, 20500) AS i) AS t",
      {pg::param(clock.now())});
  connection.exec_params("INSERT INTO queues (name, updated_at) VALUES ('default', 0), ('other', 0)");
  connection.exec_params("VACUUM ANALYZE tasks");
  for (const std::optional<std::string>& only : {std::optional<std::string>(), std::optional<std::string>("default")}) {
    auto p = plan(pg::sql::k_status_counts, {pg::param(clock.now()), only});
    BOOST_TEST_CONTEXT("queue " << only.value_or("(every queue)")) {
      BOOST_TEST(p.find("\"Seq Scan\"") == std::string::npos, p);
      BOOST_TEST(scans(p, "Index Only Scan", "tasks_pending_by_queue"), p);
      BOOST_TEST(scans(p, "Index Scan", "tasks_running"), p);
      BOOST_TEST(scans(p, "Index Only Scan", "tasks_finished_by_queue"), p);
    }
  }
  // And the answer is the rows' count.
  for (const auto& s : queues.status(clock.now()))
    BOOST_TEST(status_shown(s) == status_by_scan(connection, s.name, clock.now()), s.name);
}

BOOST_AUTO_TEST_SUITE_END()
