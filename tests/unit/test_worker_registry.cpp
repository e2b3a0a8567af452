// SqliteWorkerRegistry's own case: the plan of current_tasks() on SQLite. The semantics both backends share are the
// store contract (store_contract_cases.hpp, run on SQLite by unit.store_contract_sqlite).
#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

#include "queue/sqlite_worker_registry.hpp"
#include "store_fixture.hpp"

using namespace oos;

namespace {

struct RegistryFixture : test::StoreFixture {
  queue::SqliteWorkerRegistry registry{*db};
};

}  // namespace

BOOST_AUTO_TEST_SUITE(worker_registry)

// What each worker runs now is read from the index of running tasks (its plan never walks every task: the dashboard
// asks for it on every refresh). (What it returns: the store contract.)
BOOST_FIXTURE_TEST_CASE(current_tasks_reads_the_running_tasks_from_their_index, RegistryFixture) {
  test::run_two_of_three(tasks);
  std::map<std::string, queue::CurrentTask> current;
  auto statements = test::statements_run(*db, [&] { current = registry.current_tasks(); });
  BOOST_REQUIRE(current.size() == 2u);
  BOOST_REQUIRE(statements.size() == 1u);
  SQLite::Statement plan(db->raw(), "EXPLAIN QUERY PLAN " + statements[0]);
  std::string details;
  while (plan.executeStep()) details += plan.getColumn(3).getString() + "; ";
  // A walk of the partial index (running tasks only) is "SCAN tasks USING INDEX tasks_running"; of every task,
  // a bare "SCAN tasks".
  BOOST_TEST(details.find("SCAN tasks; ") == std::string::npos, details);
  BOOST_TEST(details.find("tasks_running") != std::string::npos, details);
}

BOOST_AUTO_TEST_SUITE_END()
