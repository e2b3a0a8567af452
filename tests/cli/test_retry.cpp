#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "cli/cli_support.hpp"

using nlohmann::json;
using oos::policy::FailureKind;
using oos::test::CliFixture;
using oos::test::LibraryWorker;
using oos::test::now_ms;

namespace {

// Dead tasks 1 (mail, "disk full"), 2 (mail, "bad input", type digest), 3 (images, "disk full"), and a
// pending task 4. Returns after the worker has closed its connection.
void make_dead_letters(CliFixture& f) {
  BOOST_TEST_REQUIRE(f.queue({"enqueue", "mail", "send"}).exit_code == 0);
  BOOST_TEST_REQUIRE(f.queue({"enqueue", "mail", "digest"}).exit_code == 0);
  BOOST_TEST_REQUIRE(f.queue({"enqueue", "images", "resize"}).exit_code == 0);
  LibraryWorker worker(f.db_path(), now_ms());
  worker.fail(worker.claim("mail"), FailureKind::permanent, "disk full", 1);
  worker.fail(worker.claim("mail"), FailureKind::permanent, "bad input", 65);
  worker.fail(worker.claim("images"), FailureKind::permanent, "disk full on /srv", 1);
  BOOST_TEST_REQUIRE(f.queue({"enqueue", "mail", "send"}).exit_code == 0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(retry)

BOOST_FIXTURE_TEST_CASE(list_shows_dead_tasks_newest_first_with_their_errors, CliFixture) {
  make_dead_letters(*this);
  auto r = retry({"list", "--json"});
  BOOST_TEST(r.exit_code == 0, r.err);
  std::vector<long long> ids;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) ids.push_back(json::parse(line)["id"].get<long long>());
  BOOST_TEST(ids == (std::vector<long long>{3, 2, 1}));
  auto filtered = retry({"list", "--queue", "mail", "--error-match", "disk", "--json"});
  BOOST_TEST(json::parse(filtered.out)["last_error"] == "disk full");
  auto text = retry({"list"});
  BOOST_TEST(text.out.find("bad input") != std::string::npos);
  BOOST_TEST(text.out.find("oos-retry ID") != std::string::npos);  // says how to requeue
}

BOOST_FIXTURE_TEST_CASE(an_empty_dead_letter_queue_says_so, CliFixture) {
  create_database();
  auto r = retry({});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out == "the dead letter queue is empty\n");
}

BOOST_FIXTURE_TEST_CASE(requeue_by_id_resets_attempts_and_counts_the_replay, CliFixture) {
  make_dead_letters(*this);
  auto r = retry({"2"});  // `oos-retry ID...` is requeue
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out == "requeued task 2\n");
  BOOST_TEST(sql_text("SELECT status || '/' || attempts || '/' || replays FROM tasks WHERE id = 2") == "pending/0/1");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'dead'") == 2);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'task.requeue' AND object = 'task/2'") == 1);
  // SQLite's trigger-kept counts; PostgreSQL has none (it counts the index entries: reference section 19).
  if (backend() == oos::test::TestBackend::sqlite)
    BOOST_TEST(sql_int("SELECT n FROM queue_counts WHERE queue = 'mail' AND status = 'dead'") == 1);
}

BOOST_FIXTURE_TEST_CASE(requeue_all_with_filters_and_dry_run, CliFixture) {
  make_dead_letters(*this);
  auto dry = retry({"requeue", "--all", "--error-match", "disk full", "--dry-run", "--json"});
  BOOST_TEST(dry.exit_code == 0, dry.err);
  BOOST_TEST(json::parse(dry.out) == json::parse(R"({"requeued":[3,1],"dry_run":true})"));
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'dead'") == 3);  // nothing changed
  auto done = retry({"requeue", "--all", "--queue", "mail", "--type", "send"});
  BOOST_TEST(done.out == "requeued task 1\n");
  BOOST_TEST(sql_text("SELECT group_concat(id) FROM (SELECT id FROM tasks WHERE status = 'dead' ORDER BY id) AS t") ==
             "2,3");
}

BOOST_FIXTURE_TEST_CASE(requeue_refuses_unknown_and_live_tasks_and_changes_nothing, CliFixture) {
  make_dead_letters(*this);
  auto unknown = retry({"requeue", "1", "99"});
  BOOST_TEST(unknown.exit_code == 66);
  BOOST_TEST(unknown.err == "oos-retry: error: task 99 not found\n");
  auto live = retry({"4"});
  BOOST_TEST(live.exit_code == 1);
  BOOST_TEST(live.err == "oos-retry: error: task 4 is pending; only dead tasks can be requeued\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'dead'") == 3);  // task 1 was not requeued either
  BOOST_TEST(retry({"requeue"}).exit_code == 64);
  BOOST_TEST(retry({"requeue", "1", "--all"}).exit_code == 64);
}

BOOST_FIXTURE_TEST_CASE(show_prints_a_dead_task_with_its_history, CliFixture) {
  make_dead_letters(*this);
  auto r = retry({"show", "2", "--json"});
  BOOST_TEST(r.exit_code == 0, r.err);
  auto doc = json::parse(r.out);
  BOOST_TEST(doc["status"] == "dead");
  BOOST_TEST(doc["attempt_history"].size() == 1u);
  BOOST_TEST(doc["attempt_history"][0]["exit_code"] == 65);
  BOOST_TEST(retry({"show", "42"}).exit_code == 66);
}

// A replayed task that fails again shows both runs: `oos-queue show` lists the first run and the replay's.
BOOST_FIXTURE_TEST_CASE(a_replay_that_fails_again_keeps_the_first_run_in_the_history, CliFixture) {
  make_dead_letters(*this);
  BOOST_TEST_REQUIRE(queue({"cancel", "4"}).exit_code == 0);  // the pending task would be claimed first
  BOOST_TEST_REQUIRE(retry({"2"}).exit_code == 0);
  {
    LibraryWorker worker(db_path(), now_ms());
    auto claimed = worker.claim("mail");
    BOOST_REQUIRE(claimed.task.id == 2);
    worker.fail(claimed, FailureKind::permanent, "still bad input", 65);
  }
  auto doc = json::parse(queue({"show", "2", "--json"}).out);
  BOOST_REQUIRE(doc["attempt_history"].size() == 2u);
  BOOST_TEST(doc["attempt_history"][0]["error"] == "bad input");
  BOOST_TEST(doc["attempt_history"][0]["replay"] == 0);
  BOOST_TEST(doc["attempt_history"][1]["error"] == "still bad input");
  BOOST_TEST(doc["attempt_history"][1]["replay"] == 1);
  auto text = queue({"show", "2"});
  BOOST_TEST(text.exit_code == 0, text.err);
  BOOST_TEST(text.out.find("#1   permanent") != std::string::npos, text.out);
  BOOST_TEST(text.out.find("#1   replay 1 permanent") != std::string::npos, text.out);
}

BOOST_FIXTURE_TEST_CASE(purge_deletes_old_dead_tasks_only, CliFixture) {
  make_dead_letters(*this);
  sql_exec("UPDATE tasks SET finished_at = finished_at - 3 * 86400000 WHERE id IN (1, 3)");
  auto dry = retry({"purge", "--older-than", "2d", "--dry-run"});
  BOOST_TEST(dry.exit_code == 0, dry.err);
  BOOST_TEST(dry.out == "would delete 2 dead tasks\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 4);
  auto kept = retry({"purge", "--json"});  // the default retention is 7 days: nothing is that old
  BOOST_TEST(json::parse(kept.out) == json::parse(R"({"deleted":0,"dry_run":false})"));
  auto done = retry({"purge", "--older-than", "2d"});
  BOOST_TEST(done.exit_code == 0, done.err);
  BOOST_TEST(done.out == "deleted 2 dead tasks\n");
  BOOST_TEST(sql_text("SELECT group_concat(id) FROM (SELECT id FROM tasks ORDER BY id) AS t") == "2,4");
  BOOST_TEST(retry({"purge", "--older-than", "soon"}).exit_code == 64);
}

BOOST_AUTO_TEST_SUITE_END()
