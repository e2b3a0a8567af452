// The store contract (issue 16): one suite of cases, written against queue::TaskStore, queue::QueueStore,
// breaker::BreakerStore and queue::WorkerRegistry only, run on SQLite (store_contract_sqlite) and on PostgreSQL
// (store_contract_pg). The cases are in store_contract_cases.hpp; each suite's file gives the fixture a fresh database
// of its backend (a temporary SQLite file, a fresh schema of the test cluster), with a manual clock and a log file.
#pragma once

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "config.hpp"
#include "log.hpp"
#include "queue/id_completion.hpp"
#include "store/backend.hpp"
#include "store_steps.hpp"
#include "support/log_file.hpp"
#include "support/temp_dir.hpp"
#include "util/time.hpp"

namespace oos::test {

// One open database of the backend under test, and what the cases read outside the interfaces: the events table
// and the task rows, which both schemas share (the same SQL runs on both).
class BackendUnderTest {
 public:
  virtual ~BackendUnderTest() = default;
  virtual store::Backend& backend() = 0;
  // Another connection to the same database, as another process or host would have.
  virtual std::unique_ptr<store::Backend> connect() = 0;
  // The first column of the first row of `sql` (no parameters: literal values only).
  virtual std::int64_t sql_int(const std::string& sql) = 0;
  virtual std::string sql_text(const std::string& sql) = 0;
  // Runs `sql` (no parameters), a write: the setup of a case that needs more rows than the interfaces make quickly.
  virtual void sql_exec(const std::string& sql) = 0;
};

// A start time for the worker rows (k_default, the default queue alone: store_steps.hpp).
inline constexpr util::UnixMillis k_t0 = 1'800'000'000'000;

struct StoreContractFixture {
  using Open = std::unique_ptr<BackendUnderTest> (*)(StoreContractFixture&);

  explicit StoreContractFixture(Open open) : under_test(open(*this)) {}

  TempDir dir;
  config::Config config;
  util::ManualClock clock{1'700'000'000'000};
  std::unique_ptr<log::Logger> logger = test::json_file_logger(dir / "oos.log");
  std::unique_ptr<BackendUnderTest> under_test;
  queue::TaskStore& tasks = under_test->backend().tasks();
  queue::QueueStore& queues = under_test->backend().queues();
  queue::WorkerRegistry& workers = under_test->backend().workers();
  breaker::BreakerStore& breakers = queues.breakers();

  std::string log_text() { return test::file_text(dir / "oos.log"); }
  std::int64_t count_events(const std::string& kind) {
    return under_test->sql_int("SELECT count(*) FROM events WHERE kind = '" + kind + "'");
  }
  policy::BreakerState breaker_state(const std::string& queue = "default") {
    return breakers.load("queue", queue).state;
  }
  queue::TaskId add(const std::string& queue_name = "default", int priority = 0) {
    return add_job(tasks, queue_name, priority);
  }
  // Claims and fails (retryable) one task of the default queue.
  void fail_one() { claim_and_fail_one(tasks); }
  // Tasks of `queue` (of one status), through list().
  std::size_t count_tasks(const std::string& queue, std::optional<queue::TaskStatus> status = std::nullopt) {
    return tasks.list(queue, status, -1).size();
  }
  // What status shows of a queue, each figure counted over the task rows, as one comparable string (one statement,
  // in SQL both backends read alike).
  std::string status_by_scan(const std::string& name, util::UnixMillis now) {
    const std::string in_queue = "FROM tasks WHERE queue = '" + name + "' AND status = ";
    const std::string due = " AND run_at <= " + std::to_string(now);
    std::string sql = "SELECT ''";
    for (const std::string& part :
         {"count(*) " + in_queue + "'pending'", "count(*) " + in_queue + "'pending'" + due,
          "count(*) " + in_queue + "'pending' AND attempts > 0", "count(*) " + in_queue + "'running'",
          "count(*) " + in_queue + "'succeeded'", "count(*) " + in_queue + "'dead'",
          "count(*) " + in_queue + "'cancelled'", "coalesce(min(run_at), -1) " + in_queue + "'pending'" + due})
      sql += " || (SELECT " + part + ") || ' '";
    return under_test->sql_text(sql);
  }
  static std::string status_shown(const queue::QueueStatus& s) {
    const auto& c = s.counts;
    return std::to_string(c.pending) + " " + std::to_string(c.runnable) + " " + std::to_string(c.retrying) + " " +
           std::to_string(c.running) + " " + std::to_string(c.succeeded) + " " + std::to_string(c.dead) + " " +
           std::to_string(c.cancelled) + " " + std::to_string(c.oldest_runnable_since.value_or(-1)) + " ";
  }
};

}  // namespace oos::test
