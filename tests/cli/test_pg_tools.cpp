// The tools beside oos-queue and oos-worker on a shared PostgreSQL (docs/reference.md section 19): oos-retry through
// the store interfaces with the output and exit codes it has on SQLite, against the throwaway cluster of
// support/pg_cluster. oos-backup and oos-integrity refuse there with 69, naming what to use instead.
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>
#include <sstream>

#include "pg_support.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace oos::test {
namespace {

// A handler that writes `error` to stderr and exits 65, a permanent failure: its task is dead after one run.
std::string failing_handler(CliFixture& f, const std::string& type, const std::string& error) {
  return handler_toml(type, f.write_script(type + ".sh", "echo '" + error + "' >&2\nexit 65\n"),
                      "permanent_exit_codes = [65]");
}

// Dead tasks 1 (mail, "disk full"), 2 (mail, "bad input", type digest), 3 (images, "disk full on /srv"), run by a
// worker on PostgreSQL, and a pending task 4.
void make_dead_letters(PgHosts& f) {
  f.write_config("[worker]\nqueues = [\"mail\", \"images\"]\npoll_interval = \"100ms\"\n" +
                 failing_handler(f, "send", "disk full") + failing_handler(f, "digest", "bad input") +
                 failing_handler(f, "resize", "disk full on /srv"));
  BOOST_TEST_REQUIRE(f.enqueue("mail", "send") == 1);
  BOOST_TEST_REQUIRE(f.enqueue("mail", "digest") == 2);
  BOOST_TEST_REQUIRE(f.enqueue("images", "resize") == 3);
  auto worked = f.worker({"--drain", "--name", "host-a:1"});
  BOOST_TEST_REQUIRE(worked.exit_code == 0, worked.err);
  BOOST_TEST_REQUIRE(f.pg_int("SELECT count(*) FROM tasks WHERE status = 'dead'") == 3);
  BOOST_TEST_REQUIRE(f.enqueue("mail", "send") == 4);
}

std::vector<long long> ids_of(const std::string& json_lines) {
  std::vector<long long> ids;
  std::istringstream lines(json_lines);
  for (std::string line; std::getline(lines, line);) ids.push_back(json::parse(line)["id"].get<long long>());
  return ids;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_tools)

BOOST_FIXTURE_TEST_CASE(retry_on_an_empty_schema_says_the_dead_letter_queue_is_empty, PgHosts) {
  auto r = retry({});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out == "the dead letter queue is empty\n");
  BOOST_TEST(!fs::exists(db_path()), "with OOS_DATABASE_URL set, no SQLite file is created");
}

BOOST_FIXTURE_TEST_CASE(retry_lists_shows_requeues_and_the_worker_runs_the_task_again, PgHosts) {
  make_dead_letters(*this);
  auto listed = retry({"list", "--json"});
  BOOST_TEST_REQUIRE(listed.exit_code == 0, listed.err);
  BOOST_TEST(ids_of(listed.out) == (std::vector<long long>{3, 2, 1}));
  auto filtered = retry({"list", "--queue", "mail", "--error-match", "disk", "--json"});
  BOOST_TEST(ids_of(filtered.out) == std::vector<long long>{1}, filtered.out);
  auto text = retry({"list"});
  BOOST_TEST(text.out.find("bad input") != std::string::npos, text.out);
  BOOST_TEST(text.out.find("oos-retry ID") != std::string::npos, text.out);

  auto shown = retry({"show", "2", "--json"});
  BOOST_TEST_REQUIRE(shown.exit_code == 0, shown.err);
  auto doc = json::parse(shown.out);
  BOOST_TEST(doc["status"] == "dead");
  BOOST_TEST_REQUIRE(doc["attempt_history"].size() == 1u);
  BOOST_TEST(doc["attempt_history"][0]["exit_code"] == 65);
  BOOST_TEST(doc["attempt_history"][0]["worker"] == "host-a:1");
  BOOST_TEST(retry({"show", "42"}).exit_code == 66);

  auto dry = retry({"requeue", "--all", "--error-match", "disk full", "--dry-run", "--json"});
  BOOST_TEST(dry.exit_code == 0, dry.err);
  BOOST_TEST(json::parse(dry.out) == json::parse(R"({"requeued":[3,1],"dry_run":true})"));
  BOOST_TEST(pg_int("SELECT count(*) FROM tasks WHERE status = 'dead'") == 3);  // nothing changed

  auto unknown = retry({"requeue", "1", "99"});
  BOOST_TEST(unknown.exit_code == 66);
  BOOST_TEST(unknown.err == "oos-retry: error: task 99 not found\n");
  auto live = retry({"4"});
  BOOST_TEST(live.exit_code == 1);
  BOOST_TEST(live.err == "oos-retry: error: task 4 is pending; only dead tasks can be requeued\n");
  BOOST_TEST(pg_int("SELECT count(*) FROM tasks WHERE status = 'dead'") == 3);
  BOOST_TEST(retry({"requeue"}).exit_code == 64);

  // Requeued from another host; the handler fixed, the worker of this host runs it again.
  auto requeued = run(tool_argv("OOS_RETRY_BIN", host_b, {"2"}));
  BOOST_TEST_REQUIRE(requeued.exit_code == 0, requeued.err);
  BOOST_TEST(requeued.out == "requeued task 2\n");
  BOOST_TEST(pg_text("SELECT status || '/' || attempts || '/' || replays FROM tasks WHERE id = 2") == "pending/0/1");
  BOOST_TEST(pg_int("SELECT count(*) FROM events WHERE kind = 'task.requeue' AND object = 'task/2'") == 1);
  BOOST_TEST_REQUIRE(queue({"cancel", "4"}).exit_code == 0);
  write_script("digest.sh", "exit 0\n");
  auto worked = worker({"--drain", "--name", "host-a:1"});
  BOOST_TEST_REQUIRE(worked.exit_code == 0, worked.err);
  auto after = json::parse(queue({"show", "2", "--json"}).out);
  BOOST_TEST(after["status"] == "succeeded", after.dump());
  BOOST_TEST_REQUIRE(after["attempt_history"].size() == 2u, after.dump());
  BOOST_TEST(after["attempt_history"][1]["replay"] == 1);
  BOOST_TEST(ids_of(retry({"list", "--json"}).out) == (std::vector<long long>{3, 1}));
}

BOOST_FIXTURE_TEST_CASE(retry_purge_deletes_old_dead_tasks_only, PgHosts) {
  make_dead_letters(*this);
  connect().exec_params("UPDATE tasks SET finished_at = finished_at - 3 * 86400000 WHERE id IN (1, 3)");
  auto dry = retry({"purge", "--older-than", "2d", "--dry-run"});
  BOOST_TEST(dry.exit_code == 0, dry.err);
  BOOST_TEST(dry.out == "would delete 2 dead tasks\n");
  BOOST_TEST(pg_int("SELECT count(*) FROM tasks") == 4);
  auto kept = retry({"purge", "--json"});  // the default retention is 7 days: nothing is that old
  BOOST_TEST(json::parse(kept.out) == json::parse(R"({"deleted":0,"dry_run":false})"));
  auto done = retry({"purge", "--older-than", "2d"});
  BOOST_TEST(done.exit_code == 0, done.err);
  BOOST_TEST(done.out == "deleted 2 dead tasks\n");
  BOOST_TEST(pg_text("SELECT string_agg(id::text, ',' ORDER BY id) FROM tasks") == "2,4");
  BOOST_TEST(retry({"purge", "--older-than", "soon"}).exit_code == 64);
}

// Backups and integrity checks of PostgreSQL are the server's tools' business: every verb refuses with 69 and one
// line naming them, before it reads or writes anything.
BOOST_FIXTURE_TEST_CASE(backup_refuses_on_postgresql_naming_pg_dump_and_pg_restore, PgHosts) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {}, {"create"}, {"list"}, {"verify"}, {"restore", "--latest"}, {"prune"}}) {
    auto r = backup(args);
    BOOST_TEST(r.exit_code == 69, r.err);
    BOOST_TEST(r.err ==
                   "oos-backup: error: oos-backup does not run on PostgreSQL (db.url or OOS_DATABASE_URL is set): it "
                   "copies the SQLite state database; back PostgreSQL up with 'pg_dump --format=custom' and verify "
                   "the dump with 'pg_restore --list'\n",
               r.err);
  }
  BOOST_TEST(!fs::exists(state_dir()), "nothing is created in the state directory");
}

BOOST_FIXTURE_TEST_CASE(integrity_refuses_on_postgresql_naming_amcheck, PgHosts) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{{}, {"check"}, {"vacuum"}}) {
    auto r = integrity(args);
    BOOST_TEST(r.exit_code == 69, r.err);
    BOOST_TEST(r.err ==
                   "oos-integrity: error: oos-integrity does not run on PostgreSQL (db.url or OOS_DATABASE_URL is "
                   "set): it checks and recovers the SQLite state database; PostgreSQL's integrity is the server's: "
                   "check it with the amcheck extension (pg_amcheck) and recover from a pg_dump\n",
               r.err);
  }
  BOOST_TEST(!fs::exists(state_dir()), "nothing is created in the state directory");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace oos::test
