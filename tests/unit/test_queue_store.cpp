// SqliteQueueStore's own cases: the plan of its dead-letter query on SQLite, and queue_alerts() (pure). The semantics
// both backends share are the store contract (store_contract_cases.hpp, run on SQLite by unit.store_contract_sqlite).
#include <sqlite3.h>

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "store_fixture.hpp"

using namespace oos;
using namespace oos::queue;
using oos::test::StoreFixture;

BOOST_AUTO_TEST_SUITE(queue_store)

BOOST_AUTO_TEST_CASE(queue_alerts_name_depth_and_open_breakers) {
  config::QueueSettings settings;
  settings.depth_alert = 10;
  QueueCounts counts;
  counts.runnable = 11;
  policy::BreakerRecord open{policy::BreakerState::open, 10, 0, 60'000};
  auto alerts = queue_alerts(counts, open, settings);
  BOOST_REQUIRE(alerts.size() == 2u);
  BOOST_TEST(alerts[1].find("breaker open") != std::string::npos);
  counts.runnable = 10;
  BOOST_TEST(queue_alerts(counts, policy::BreakerRecord{}, settings).empty());
}

// The tasks that died since a time, per queue (oos-health), are read from the index of dead tasks by when they
// died: its plan walks that range, never all the tasks. (What it counts: the store contract.)
BOOST_FIXTURE_TEST_CASE(dead_since_reads_its_range_from_the_dead_by_finished_index, StoreFixture) {
  auto since = oos::test::four_deaths_a_minute_apart(tasks, clock);  // the last two deaths (60 and 120 s ago)
  std::map<std::string, std::int64_t> dead;
  auto statements = oos::test::statements_run(*db, [&] { dead = queues.dead_since(since); });
  BOOST_TEST(dead.size() == 2u);
  BOOST_REQUIRE(statements.size() == 1U);
  SQLite::Statement plan(db->raw(), "EXPLAIN QUERY PLAN " + statements[0]);
  std::string details;
  while (plan.executeStep()) details += plan.getColumn(3).getString() + "; ";
  BOOST_TEST(details.find("SCAN tasks") == std::string::npos, details);
  BOOST_TEST(details.find("tasks_dead_by_finished") != std::string::npos, details);
}

BOOST_AUTO_TEST_SUITE_END()
