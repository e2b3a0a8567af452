// The tools beside oos-queue and oos-worker on a shared PostgreSQL (docs/reference.md section 19): oos-retry through
// the store interfaces with the output and exit codes it has on SQLite, against the throwaway cluster of
// support/pg_cluster, on dead tasks a worker made there (each verb's cases, purge's among them: cli_pg.retry).
// oos-backup and oos-integrity refuse there with 69, naming what to use instead. oos-health checks the queues, the
// workers and the server.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

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

// oos-health --json's checks as name -> {status, message}.
std::map<std::string, json> checks_of(const std::string& out) {
  std::map<std::string, json> checks;
  const auto doc = json::parse(out);
  for (const auto& c : doc["checks"]) checks[c["name"].get<std::string>()] = c;
  return checks;
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

BOOST_FIXTURE_TEST_CASE(health_checks_the_queues_workers_and_server_and_not_the_host_local_files, PgHosts) {
  BOOST_TEST_REQUIRE(queue({"pause", "mail"}).exit_code == 0);
  auto r = health({"--json"});
  BOOST_TEST(r.exit_code == 0, r.out << r.err);
  auto checks = checks_of(r.out);
  for (const auto& [name, check] : checks) BOOST_TEST(check["status"] == "OK", name << ": " << check.dump());
  BOOST_TEST(checks.count("database") == 1u);
  BOOST_TEST(checks["database"]["message"].get<std::string>().starts_with("PostgreSQL at "), r.out);
  BOOST_TEST(
      checks["postgres connections"]["message"].get<std::string>().find("connections in use") != std::string::npos,
      r.out);
  BOOST_TEST(checks["postgres transactions"]["message"] == "no other transaction open", r.out);
  BOOST_TEST(checks.count("postgres clock") == 1u, r.out);
  BOOST_TEST(checks["queue mail"]["message"] == "0 runnable, 0 dead, paused", r.out);
  BOOST_TEST(checks.count("workers") == 1u, r.out);
  BOOST_TEST(checks.count("backup") == 0u, "backups are the server's business: " << r.out);
  BOOST_TEST(checks.count("integrity") == 0u, r.out);
  BOOST_TEST(!fs::exists(db_path()), "no SQLite file is created");

  // The queue checks read the shared store: a task runnable with no worker anywhere is CRITICAL.
  BOOST_TEST_REQUIRE(queue_at(host_b, {"enqueue", "default", "note"}).exit_code == 0);
  auto waiting = health({});
  BOOST_TEST(waiting.exit_code == 2, waiting.out);
  BOOST_TEST(waiting.out.find("CRITICAL workers: no worker is running and 1 tasks are runnable") != std::string::npos,
             waiting.out);
}

BOOST_FIXTURE_TEST_CASE(health_warns_of_a_transaction_held_open_past_db_transaction_warning, PgHosts) {
  write_config("[db]\ntransaction_warning = \"1s\"\n");
  auto holder = connect();
  holder.exec_params("BEGIN");
  holder.exec_params("SELECT txid_current()");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto r = health({});
  BOOST_TEST(r.exit_code == 1, r.out << r.err);
  BOOST_TEST(r.out.find("WARNING postgres transactions: a transaction open for ") != std::string::npos, r.out);
  BOOST_TEST(
      r.out.find("idle in transaction), over db.transaction_warning 1s: it holds back vacuum") != std::string::npos,
      r.out);
  holder.exec_params("COMMIT");
  auto after = health({});
  BOOST_TEST(after.exit_code == 0, after.out);
}

BOOST_FIXTURE_TEST_CASE(health_is_critical_naming_the_server_when_it_cannot_be_reached, PgHosts) {
  ::setenv("OOS_DATABASE_URL", "postgresql://oos@/oos?host=%2Fnonexistent-oos-socket-dir", 1);
  auto r = health({"--json"}, {"OOS_DATABASE_PASSWORD=hunter2hunter2"});
  BOOST_TEST(r.exit_code == 2, r.out << r.err);
  auto checks = checks_of(r.out);
  BOOST_TEST(checks["database"]["status"] == "CRITICAL", r.out);
  BOOST_TEST(checks["database"]["message"].get<std::string>().find("cannot connect to PostgreSQL at "
                                                                   "/nonexistent-oos-socket-dir") != std::string::npos,
             r.out);
  BOOST_TEST(checks.count("backup") == 0u, r.out);
  BOOST_TEST(checks.count("postgres connections") == 0u, r.out);
  BOOST_TEST((r.out + r.err).find("hunter2") == std::string::npos, r.out << r.err);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace oos::test
