// Many hosts, one queue, behind a PgBouncer in transaction mode (docs/reference.md section 19): the tools of two
// simulated hosts reach a database of their own through a throwaway PgBouncer (support/pg_bouncer) whose two server
// connections they all share, with db.listen = false. A bouncer passes no search_path, so the tables are found in the
// database's default schema. The test's own checks go to the database directly.
#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <memory>
#include <vector>

#include "pg/schema.hpp"
#include "pg_support.hpp"

namespace fs = std::filesystem;

namespace oos::test {
namespace {

// Server connections per database: fewer than the 6 workers and the producer, so clients take turns on them.
constexpr int k_pool_size = 2;

// A database of its own and a PgBouncer in front of the cluster, made before the tools are pointed at them.
struct BouncedDatabase {
  PgDatabase database = PgCluster::instance().fresh_database();
  PgBouncer bouncer{PgCluster::instance(), k_pool_size};
};

// Two hosts' tools through the bouncer (OOS_DATABASE_URL names the database, no options).
struct PgBouncerHosts : BouncedDatabase, PgTools {
  PgBouncerHosts() : PgTools(bouncer.url(database.name()), PgCluster::instance().conninfo(database.name())) {}
};

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_bouncer)

// Several first commands at once through the bouncer: the schema is migrated once, and its advisory lock is the
// transaction's (a session's lock would stay behind on a pooled server connection and block the next host's
// migration on another one).
BOOST_FIXTURE_TEST_CASE(hosts_starting_together_migrate_once_and_leave_no_advisory_lock_behind, PgBouncerHosts) {
  std::vector<std::unique_ptr<BackgroundProcess>> commands;
  for (int i = 0; i < 4; ++i)
    commands.push_back(std::make_unique<BackgroundProcess>(
        tool_argv("OOS_QUEUE_BIN", i % 2 ? host_b : state_dir(), {"status"}), test_environment({})));
  for (auto& command : commands) {
    const int code = command->wait(scaled(std::chrono::seconds(20)));
    BOOST_TEST(code == 0, "exit " << code << ": " << command->err());
  }
  BOOST_TEST(pg_int("SELECT version FROM oos_schema") == pg::latest_schema_version());
  BOOST_TEST(pg_int("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'") == 0);
  BOOST_TEST(pg_text("SELECT to_regclass('public.tasks')::text") == "tasks", "the tables are in the default schema");
}

// A URL that sets a search_path through `options` is refused by the bouncer: 69, with its reason.
BOOST_FIXTURE_TEST_CASE(a_url_with_options_is_refused_by_the_bouncer_with_69, PgBouncerHosts) {
  ::setenv("OOS_DATABASE_URL", (url + "&options=" + url_encoded("-c search_path=oos")).c_str(), 1);
  auto refused = queue({"status"});
  BOOST_TEST(refused.exit_code == 69, refused.err);
  BOOST_TEST(refused.err.find("unsupported startup parameter: options") != std::string::npos, refused.err);
}

// The other tools that run on PostgreSQL work through the bouncer as well: oos-health's checks, the server's
// included, are all OK on a paused queue, and oos-retry finds the dead letter queue empty.
BOOST_FIXTURE_TEST_CASE(health_and_retry_run_through_the_bouncer, PgBouncerHosts) {
  BOOST_TEST_REQUIRE(queue({"pause", "mail"}).exit_code == 0);
  auto checked = health({});
  BOOST_TEST(checked.exit_code == 0, checked.out << checked.err);
  BOOST_TEST(checked.out.find("OK postgres transactions: no other transaction open") != std::string::npos, checked.out);
  BOOST_TEST(checked.out.find("OK queue mail: 0 runnable, 0 dead, paused") != std::string::npos, checked.out);
  auto retried = retry({});
  BOOST_TEST(retried.exit_code == 0, retried.err);
  BOOST_TEST(retried.out == "the dead letter queue is empty\n");
}

// The kill storm of cli.pg_hosts, smaller (1000 tasks, 8 s of kills), through the bouncer with db.listen = false.
BOOST_FIXTURE_TEST_CASE(a_kill_storm_through_the_bouncer_loses_no_task_and_completes_none_twice, PgBouncerHosts) {
  run_kill_storm(
      *this,
      KillStorm{.tasks = 1000, .batches = 10, .storm = std::chrono::seconds(8), .db_table = "[db]\nlisten = false\n"});
}

// db.listen left on behind the bouncer: the worker finds that a NOTIFY never reaches its LISTEN (an idle client holds
// no server connection), says so once naming db.listen = false, and polls.
BOOST_FIXTURE_TEST_CASE(a_worker_left_listening_behind_the_bouncer_says_it_polls_and_still_runs_tasks, PgBouncerHosts) {
  auto ran = dir() / "ran";
  write_config("[worker]\npoll_interval = \"200ms\"\n" +
               handler_toml("note", write_script("note.sh", "cat >> " + ran.string() + "\n")));
  BOOST_TEST_REQUIRE(queue({"status"}).exit_code == 0);  // migrated before the worker starts
  auto w = start_worker({"--name", "bounced-1"});
  BOOST_TEST_REQUIRE(eventually([&] { return w->err().find("set db.listen = false") != std::string::npos; },
                                scaled(std::chrono::seconds(10)), {w.get()}),
                     w->err());
  BOOST_TEST(w->err().find("waiting for work by LISTEN") == std::string::npos, w->err());
  auto enqueued = queue({"enqueue", "default", "note", "--data", R"({"n":1})"});
  BOOST_TEST_REQUIRE(enqueued.exit_code == 0, enqueued.err);
  BOOST_TEST(eventually([&] { return fs::exists(ran) && read_file(ran) == R"({"n":1})"; },
                        scaled(std::chrono::seconds(10)), {w.get()}),
             w->err());
  w->signal(SIGTERM);
  BOOST_TEST(w->wait(std::chrono::seconds(20)) == 0, w->err());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace oos::test
