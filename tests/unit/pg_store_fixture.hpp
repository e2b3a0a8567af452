// A migrated schema of the throwaway PostgreSQL cluster (support/pg_cluster) per test, with a manual clock and a task
// store on one connection logging to a file: what the PostgreSQL store suites (pg_task_store, pg_queue_store) start
// from, as store_fixture.hpp is for SQLite's.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config.hpp"
#include "log.hpp"
#include "pg/connection.hpp"
#include "pg/pg_task_store.hpp"
#include "pg/schema.hpp"
#include "pg/values.hpp"
#include "store_steps.hpp"
#include "support/log_file.hpp"
#include "support/pg_cluster.hpp"
#include "support/temp_dir.hpp"
#include "util/time.hpp"

namespace oos::test {

// A connection to `conninfo` whose schema has been migrated to the latest version.
inline pg::Connection migrated(const std::string& conninfo) {
  pg::Connection connection(conninfo);
  pg::migrate(connection);
  return connection;
}

// A fresh schema migrated on `connection`, the task store on it (`tasks`), logging to dir / "oos.log".
struct PgStoreFixture {
  PgSchema schema = PgCluster::instance().fresh_schema();
  TempDir dir;
  config::Config config;
  util::ManualClock clock{1'700'000'000'000};
  std::unique_ptr<log::Logger> logger = json_file_logger(dir / "oos.log");
  pg::Connection connection = migrated(schema.conninfo());
  pg::PgTaskStore pg_tasks{connection, config, clock, *logger};
  queue::TaskStore& tasks = pg_tasks;

  // Another connection to the same schema.
  pg::Connection connect() { return pg::Connection(schema.conninfo()); }
  long long sql_int(const std::string& sql, const std::vector<pg::Param>& params = {}) {
    return pg::int_at(connection.exec_params(sql, params), 0, 0);
  }
  queue::TaskId add(const std::string& queue_name = "default", int priority = 0) {
    return add_job(tasks, queue_name, priority);
  }
  // `count` pending tasks of `queue` inserted by one statement, `delayed` of them not runnable for an hour (no
  // events, no validation: for volume).
  void bulk_insert(int count, const std::string& queue = "default", int delayed = 0) {
    connection.exec_params(
        "INSERT INTO tasks (queue, type, payload, status, priority, run_at, max_attempts, created_at, updated_at) "
        "SELECT $1, 'job', '{}', 'pending', i % 5, CASE WHEN i <= $4 THEN $2::bigint + 3600000 ELSE $2::bigint - i "
        "END, 10, $2::bigint, $2::bigint FROM generate_series(1, $3::int) AS i",
        {queue, pg::param(clock.now()), pg::param(count), pg::param(delayed)});
    connection.exec_params("INSERT INTO queues (name, updated_at) VALUES ($1, 0) ON CONFLICT DO NOTHING", {queue});
  }
};

}  // namespace oos::test
