// WorkerRegistry on a real SQLite file.
#include <boost/test/unit_test.hpp>

#include <array>
#include <map>
#include <string>

#include "db/database.hpp"
#include "queue/sqlite_worker_registry.hpp"
#include "store_fixture.hpp"

using namespace oos;

namespace {

constexpr util::UnixMillis k_t0 = 1'800'000'000'000;

struct RegistryFixture : test::StoreFixture {
  queue::SqliteWorkerRegistry registry{*db};
};

}  // namespace

BOOST_AUTO_TEST_SUITE(worker_registry)

BOOST_FIXTURE_TEST_CASE(a_heartbeat_inserts_a_row_with_every_column, RegistryFixture) {
  BOOST_TEST(registry.list().empty());
  registry.heartbeat("1", 4242, "host-a", k_t0, k_t0 + 10, "idle on default; 0 tasks run", 0);
  auto rows = registry.list();
  BOOST_REQUIRE(rows.size() == 1u);
  BOOST_TEST(rows[0].name == "1");
  BOOST_TEST(rows[0].pid == 4242);
  BOOST_TEST(rows[0].host == "host-a");
  BOOST_TEST(rows[0].started_at == k_t0);
  BOOST_TEST(rows[0].heartbeat_at == k_t0 + 10);
  BOOST_TEST(rows[0].status == "idle on default; 0 tasks run");
  BOOST_TEST(rows[0].tasks_run == 0);
}

BOOST_FIXTURE_TEST_CASE(the_next_heartbeat_updates_the_same_row, RegistryFixture) {
  registry.heartbeat("1", 4242, "host-a", k_t0, k_t0, "idle", 0);
  registry.heartbeat("1", 4242, "host-a", k_t0, k_t0 + 10'000, "running task 7 (mail) for 2s", 3);
  auto rows = registry.list();
  BOOST_REQUIRE(rows.size() == 1u);
  BOOST_TEST(rows[0].heartbeat_at == k_t0 + 10'000);
  BOOST_TEST(rows[0].status == "running task 7 (mail) for 2s");
  BOOST_TEST(rows[0].tasks_run == 3);
  // A restarted instance (same name, new process) takes the row over.
  registry.heartbeat("1", 5000, "host-a", k_t0 + 60'000, k_t0 + 60'000, "idle", 0);
  rows = registry.list();
  BOOST_REQUIRE(rows.size() == 1u);
  BOOST_TEST(rows[0].pid == 5000);
  BOOST_TEST(rows[0].started_at == k_t0 + 60'000);
  BOOST_TEST(rows[0].tasks_run == 0);
}

BOOST_FIXTURE_TEST_CASE(list_is_by_name_and_remove_deletes_one_row, RegistryFixture) {
  registry.heartbeat("b", 2, "h", k_t0, k_t0, "", 0);
  registry.heartbeat("a", 1, "h", k_t0, k_t0, "", 0);
  registry.heartbeat("c", 3, "h", k_t0, k_t0, "", 0);
  auto rows = registry.list();
  BOOST_REQUIRE(rows.size() == 3u);
  BOOST_TEST(rows[0].name == "a");
  BOOST_TEST(rows[2].name == "c");
  BOOST_TEST(registry.remove("b"));
  BOOST_TEST(!registry.remove("b"));  // already gone
  BOOST_TEST(!registry.remove("never-there"));
  rows = registry.list();
  BOOST_REQUIRE(rows.size() == 2u);
  BOOST_TEST(rows[0].name == "a");
  BOOST_TEST(rows[1].name == "c");
}

BOOST_FIXTURE_TEST_CASE(another_connection_sees_the_heartbeat, RegistryFixture) {
  registry.heartbeat("w", 1, "h", k_t0, k_t0 + 5, "idle", 2);
  db::Database other(db::OpenOptions{dir / "oos.db", config::Synchronous::full, util::Millis(2000)});
  auto rows = queue::SqliteWorkerRegistry(other).list();
  BOOST_REQUIRE(rows.size() == 1u);
  BOOST_TEST(rows[0].tasks_run == 2);
}

BOOST_FIXTURE_TEST_CASE(remove_silent_deletes_only_rows_older_than_the_cutoff, RegistryFixture) {
  registry.heartbeat("old", 1, "h", k_t0, k_t0, "idle", 0);
  registry.heartbeat("fresh", 2, "h", k_t0, k_t0 + 1000, "idle", 0);
  BOOST_TEST(registry.remove_silent(k_t0 + 1000, DryRun::yes) == 1);
  BOOST_TEST(registry.list().size() == 2u);  // a dry run only counts
  BOOST_TEST(registry.remove_silent(k_t0 + 1000, DryRun::no) == 1);
  auto rows = registry.list();
  BOOST_REQUIRE(rows.size() == 1u);
  BOOST_TEST(rows[0].name == "fresh");
}

// What each worker runs now: the running tasks by lease owner, read from the index of running tasks (its plan
// never walks every task: the dashboard asks for it on every refresh).
BOOST_FIXTURE_TEST_CASE(current_tasks_reads_the_running_tasks_from_their_index, RegistryFixture) {
  const std::array<std::string, 1> names{"default"};
  for (int i = 0; i < 3; ++i) add();
  auto first = tasks.claim(names, "w1");
  auto second = tasks.claim(names, "w2");
  BOOST_REQUIRE(first);
  BOOST_REQUIRE(second);
  std::map<std::string, queue::CurrentTask> current;
  auto statements = test::statements_run(*db, [&] { current = registry.current_tasks(); });
  BOOST_REQUIRE(current.size() == 2u);
  BOOST_TEST(current.at("w1").id == first->task.id);
  BOOST_TEST(current.at("w2").id == second->task.id);
  BOOST_TEST(current.at("w1").queue == "default");
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
