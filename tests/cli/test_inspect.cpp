#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli_support.hpp"
#include "util/time.hpp"

using nlohmann::json;
using oos::test::CliFixture;
using oos::test::is_one_error_line;
using oos::test::LibraryWorker;
using oos::test::now_ms;
using oos::util::format_iso8601;

namespace {

std::string right(const std::string& text, std::size_t width) {
  return text.size() >= width ? text : std::string(width - text.size(), ' ') + text;
}
std::string left(const std::string& text, std::size_t width) {
  return text.size() >= width ? text : text + std::string(width - text.size(), ' ');
}

// One row of `oos-queue list` as the tool aligns it.
std::string list_row(const std::string& id, const std::string& status, const std::string& type,
                     const std::string& priority, const std::string& attempts, const std::string& run_at,
                     const std::string& last_error) {
  return right(id, 8) + " " + left(status, 10) + " " + left(type, 16) + " " + right(priority, 8) + " " +
         right(attempts, 8) + " " + left(run_at, 24) + " " + last_error + "\n";
}

std::vector<json> json_lines(const std::string& out) {
  std::istringstream lines(out);
  std::string line;
  std::vector<json> docs;
  while (std::getline(lines, line)) docs.push_back(json::parse(line));
  return docs;
}

std::vector<long long> ids_of(const std::vector<json>& docs) {
  std::vector<long long> ids;
  for (const auto& d : docs) ids.push_back(d["id"].get<long long>());
  return ids;
}

const std::string k_status_header =
    "QUEUE             PENDING RUNNABLE RETRYING  RUNNING SUCCEEDED   DEAD CANCELLED   OLDEST PAUSED BREAKER   "
    "ALERTS\n";

const json k_closed_breaker = json::parse(oos::test::k_closed_breaker_json);

}  // namespace

BOOST_AUTO_TEST_SUITE(inspect)

// A database written before the depth limit may hold a payload nested 100,000 levels deep: the --json
// listings print it as a string instead of overflowing the stack.
BOOST_FIXTURE_TEST_CASE(a_stored_payload_nested_too_deep_is_printed_as_a_string, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "work", "job"}).exit_code == 0);
  auto deep = std::string(100000, '[') + std::string(100000, ']');
  sql_exec("UPDATE tasks SET payload = '" + deep + "', status = 'dead' WHERE id = 1");
  for (const auto& r : {queue({"show", "1", "--json"}), queue({"list", "work", "--json"}),
                        retry({"show", "1", "--json"}), retry({"list", "--json"})}) {
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
    BOOST_TEST(json::parse(r.out)["payload"] == deep);
  }
}

BOOST_FIXTURE_TEST_CASE(status_without_queues_says_how_to_add_one, CliFixture) {
  create_database();
  auto text = queue({"status"});
  BOOST_TEST(text.exit_code == 0);
  BOOST_TEST(text.out == "no queues yet: add a task with 'oos-queue enqueue QUEUE TYPE'\n");
  auto doc = queue({"status", "--json"});
  BOOST_TEST(doc.exit_code == 0);
  BOOST_TEST(json::parse(doc.out) == (json{{"queues", json::array()}, {"cooling_key_rings", json::array()}}));
}

BOOST_FIXTURE_TEST_CASE(status_json_counts_every_state_of_every_queue, CliFixture) {
  for (int i = 0; i < 6; ++i) BOOST_TEST_REQUIRE(queue({"enqueue", "work", "job"}).exit_code == 0);
  BOOST_TEST_REQUIRE(queue({"enqueue", "work", "job", "--delay", "1h"}).out == "7\n");
  BOOST_TEST_REQUIRE(queue({"pause", "idle"}).exit_code == 0);
  {
    LibraryWorker worker(db_path(), now_ms());
    worker.complete(worker.claim("work"));                                               // 1 succeeded
    worker.fail(worker.claim("work"), oos::policy::FailureKind::permanent, "bad", 65);   // 2 dead
    worker.fail(worker.claim("work"), oos::policy::FailureKind::retryable, "flaky", 1);  // 3 retrying
    BOOST_TEST_REQUIRE(worker.claim("work").task.id == 4);                               // 4 running
  }
  BOOST_TEST_REQUIRE(queue({"cancel", "5"}).exit_code == 0);
  // Pending: 3 (retrying), 6 and 7 (delayed); runnable: 3 and 6.

  auto r = queue({"status", "--json"});
  BOOST_TEST(r.exit_code == 0);
  auto doc = json::parse(r.out);
  BOOST_TEST_REQUIRE(doc["queues"].size() == 2u);
  BOOST_TEST(doc["queues"][0] == (json{{"name", "idle"},
                                       {"pending", 0},
                                       {"runnable", 0},
                                       {"retrying", 0},
                                       {"running", 0},
                                       {"succeeded", 0},
                                       {"dead", 0},
                                       {"cancelled", 0},
                                       {"oldest_pending_age_seconds", nullptr},
                                       {"paused", true},
                                       {"breaker", k_closed_breaker},
                                       {"alerts", json::array()}}));
  auto work = doc["queues"][1];
  BOOST_TEST(work["name"] == "work");
  BOOST_TEST(work["pending"] == 3);
  BOOST_TEST(work["runnable"] == 2);
  BOOST_TEST(work["retrying"] == 1);
  BOOST_TEST(work["running"] == 1);
  BOOST_TEST(work["succeeded"] == 1);
  BOOST_TEST(work["dead"] == 1);
  BOOST_TEST(work["cancelled"] == 1);
  BOOST_TEST(work["paused"] == false);
  BOOST_TEST(work["breaker"]["state"] == "closed");
  BOOST_TEST(work["breaker"]["consecutive_failures"] == 2);
  BOOST_TEST(work["alerts"] == json::array());
  auto age = work["oldest_pending_age_seconds"].get<long long>();
  BOOST_TEST(age >= 0);
  BOOST_TEST(age < 60);
}

BOOST_FIXTURE_TEST_CASE(the_oldest_pending_age_counts_from_the_longest_waiting_runnable_task, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "work", "job"}).exit_code == 0);
  BOOST_TEST_REQUIRE(queue({"enqueue", "work", "job"}).exit_code == 0);
  sql_exec("UPDATE tasks SET run_at = run_at - 150000 WHERE id = 2");
  auto r = queue({"status", "--json"});
  auto age = json::parse(r.out)["queues"][0]["oldest_pending_age_seconds"].get<long long>();
  BOOST_TEST(age >= 150);
  BOOST_TEST(age < 210);
  auto text = queue({"status"});
  BOOST_TEST(text.out.find(" 2m3") != std::string::npos, text.out);
}

BOOST_FIXTURE_TEST_CASE(status_text_is_an_aligned_table_sorted_by_queue, CliFixture) {
  write_config("[queues.zeta]\nmax_attempts = 3\n");
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send", "--delay", "1h"}).exit_code == 0);
  BOOST_TEST_REQUIRE(queue({"pause", "mail"}).exit_code == 0);
  auto r = queue({"status"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out == k_status_header +
                          "mail                    1        0        0        0         0      0         0        - "
                          "yes    closed    -\n"
                          "zeta                    0        0        0        0         0      0         0        - "
                          "no     closed    -\n");
}

BOOST_FIXTURE_TEST_CASE(a_depth_alert_appears_when_runnable_tasks_exceed_the_queue_setting, CliFixture) {
  write_config("[queues.mail]\ndepth_alert = 2\n");
  for (int i = 0; i < 2; ++i) BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send", "--delay", "1h"}).exit_code == 0);
  for (int i = 0; i < 3; ++i) BOOST_TEST_REQUIRE(queue({"enqueue", "other", "send"}).exit_code == 0);

  // Two runnable (the delayed one does not count) is not more than 2.
  auto quiet = queue({"status", "--json"});
  BOOST_TEST(quiet.exit_code == 0);
  BOOST_TEST(json::parse(quiet.out)["queues"][0]["alerts"] == json::array());
  BOOST_TEST(quiet.err.empty());

  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  auto r = queue({"status", "--json"});
  BOOST_TEST(r.exit_code == 0);
  auto doc = json::parse(r.out);
  BOOST_TEST(doc["queues"][0]["name"] == "mail");
  BOOST_TEST(doc["queues"][0]["runnable"] == 3);
  BOOST_TEST(doc["queues"][0]["alerts"] == (json{"depth 3 runnable tasks exceeds queue.depth_alert 2"}));
  BOOST_TEST(doc["queues"][1]["name"] == "other");
  BOOST_TEST(doc["queues"][1]["alerts"] == json::array());
  // The alert is also logged, on stderr, never on stdout.
  BOOST_TEST(r.err.find("queue mail: depth 3 runnable tasks exceeds queue.depth_alert 2") != std::string::npos);

  auto text = queue({"status"});
  BOOST_TEST(text.out.find(" closed    depth 3 runnable tasks exceeds queue.depth_alert 2\n") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(stats_text_shows_counts_and_the_last_hours_runs, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  {
    // One run of 2 s that succeeds, one of 1 s that fails for good: a mean of 1.5 s.
    LibraryWorker worker(db_path(), now_ms());
    auto first = worker.claim("mail");
    worker.advance(2000);
    worker.complete(first);
    auto second = worker.claim("mail");
    worker.advance(1000);
    worker.fail(second, oos::policy::FailureKind::permanent, "no such mailbox", 65);
  }
  auto r = queue({"stats", "mail"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out ==
             "queue:               mail\n"
             "paused:              no\n"
             "pending:             0 (0 runnable, 0 retrying)\n"
             "running:             0\n"
             "succeeded:           1\n"
             "dead:                1\n"
             "cancelled:           0\n"
             "oldest pending:      -\n"
             "breaker:             closed (1 consecutive failures)\n"
             "runs last hour:      2\n"
             "failures last hour:  1\n"
             "mean run time:       1.500s\n");

  auto j = queue({"stats", "mail", "--json"});
  BOOST_TEST(j.exit_code == 0);
  auto doc = json::parse(j.out);
  BOOST_TEST(doc["name"] == "mail");
  BOOST_TEST(doc["pending"] == 0);
  BOOST_TEST(doc["succeeded"] == 1);
  BOOST_TEST(doc["dead"] == 1);
  BOOST_TEST(doc["runs_last_hour"] == 2);
  BOOST_TEST(doc["failures_last_hour"] == 1);
  BOOST_TEST(doc["mean_run_seconds"] == 1.5);
  BOOST_TEST(doc["oldest_pending_age_seconds"].is_null());
  BOOST_TEST(doc["breaker"]["consecutive_failures"] == 1);
  BOOST_TEST(doc["alerts"] == json::array());
}

BOOST_FIXTURE_TEST_CASE(stats_of_a_queue_without_runs_has_no_mean_and_lists_alerts, CliFixture) {
  write_config("[queues.mail]\ndepth_alert = 0\n");
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  auto j = queue({"stats", "mail", "--json"});
  BOOST_TEST(j.exit_code == 0);
  auto doc = json::parse(j.out);
  BOOST_TEST(doc["runs_last_hour"] == 0);
  BOOST_TEST(doc["failures_last_hour"] == 0);
  BOOST_TEST(doc["mean_run_seconds"].is_null());
  BOOST_TEST(doc["alerts"] == (json{"depth 1 runnable tasks exceeds queue.depth_alert 0"}));
  auto text = queue({"stats", "mail"});
  BOOST_TEST(text.out.find("mean run time:       -\n") != std::string::npos);
  BOOST_TEST(text.out.ends_with("alert:               depth 1 runnable tasks exceeds queue.depth_alert 0\n"));
}

BOOST_FIXTURE_TEST_CASE(stats_of_a_queue_known_only_from_the_config_is_all_zero, CliFixture) {
  create_database();
  write_config("[queues.zeta]\nmax_attempts = 3\n");
  auto r = queue({"stats", "zeta", "--json"});
  BOOST_TEST(r.exit_code == 0);
  auto doc = json::parse(r.out);
  BOOST_TEST(doc["name"] == "zeta");
  BOOST_TEST(doc["pending"] == 0);
  BOOST_TEST(doc["paused"] == false);
}

BOOST_FIXTURE_TEST_CASE(stats_and_list_of_an_unknown_queue_are_exit_66, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  for (const std::string verb : {"stats", "list"}) {
    auto r = queue({verb, "nope"});
    BOOST_TEST(r.exit_code == 66, verb);
    BOOST_TEST(r.out.empty());
    BOOST_TEST(r.err == "oos-queue: error: queue 'nope' not found: it has no tasks and no [queues.nope] settings\n");
  }
}

// Handler output and payloads are shown, never obeyed by the terminal: control characters are escaped in
// every text output (the JSON output is escaped by the serializer).
BOOST_FIXTURE_TEST_CASE(terminal_escapes_in_task_fields_are_printed_escaped, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "work", "job", "--unique-key", "k\x1b[1m"}).exit_code == 0);
  const std::string evil = "\x1b]0;PWNED\x07\x1b[31m";
  // Not valid JSON (a raw control character in a string), but a database may hold anything.
  sql_exec("UPDATE tasks SET payload = '\"\x1b[2J\"' WHERE id = 1");
  sql_exec("UPDATE tasks SET status = 'dead', attempts = 1, last_error = '" + evil + "', result = '" + evil +
           "\xc2\x9b' WHERE id = 1");
  sql_exec(
      "INSERT INTO task_attempts (task_id, run, replay, attempt, queue, worker, ended_at, outcome, exit_code, "
      "error) VALUES (1, 1, 0, 1, 'work', 'w1', 0, 'failed', 1, '" +
      evil + "')");
  for (const auto& r : {queue({"show", "1"}), queue({"list", "work"}), retry({"list"}), retry({"show", "1"})}) {
    BOOST_TEST(r.exit_code == 0, r.err);
    BOOST_TEST(r.out.find('\x1b') == std::string::npos, r.out);
    BOOST_TEST(r.out.find('\x07') == std::string::npos, r.out);
    BOOST_TEST(r.out.find("\\x1b]0;PWNED\\x07\\x1b[31m") != std::string::npos, r.out);
  }
  auto shown = queue({"show", "1"}).out;
  BOOST_TEST(shown.find("payload:       \"\\x1b[2J\"\n") != std::string::npos, shown);
  BOOST_TEST(shown.find("unique key:    k\\x1b[1m\n") != std::string::npos, shown);
  BOOST_TEST(shown.find("\\xc2\\x9b") != std::string::npos, shown);
}

BOOST_FIXTURE_TEST_CASE(list_text_shows_the_newest_task_first, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "a"}).exit_code == 0);
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "b", "--priority", "7", "--max-attempts", "2"}).exit_code == 0);
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "c"}).exit_code == 0);
  BOOST_TEST_REQUIRE(queue({"enqueue", "sms", "d"}).exit_code == 0);
  BOOST_TEST_REQUIRE(queue({"cancel", "1"}).exit_code == 0);
  sql_exec("UPDATE tasks SET attempts = 1, last_error = 'line one\nline two' WHERE id = 3");
  auto run_at = [&](int id) {
    return format_iso8601(sql_int("SELECT run_at FROM tasks WHERE id = " + std::to_string(id)));
  };

  auto r = queue({"list", "mail"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out == "      ID STATUS     TYPE             PRIORITY ATTEMPTS RUN_AT                   LAST_ERROR\n" +
                          list_row("3", "pending", "c", "0", "1/10", run_at(3), "line one\\nline two") +
                          list_row("2", "pending", "b", "7", "0/2", run_at(2), "-") +
                          list_row("1", "cancelled", "a", "0", "0/10", run_at(1), "-"));
}

BOOST_FIXTURE_TEST_CASE(list_filters_by_status_and_limits_the_count, CliFixture) {
  for (int i = 0; i < 5; ++i) BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  BOOST_TEST_REQUIRE(queue({"cancel", "2"}).exit_code == 0);
  BOOST_TEST_REQUIRE(queue({"cancel", "4"}).exit_code == 0);

  auto all = queue({"list", "mail", "--json"});
  BOOST_TEST(all.exit_code == 0);
  BOOST_TEST(ids_of(json_lines(all.out)) == (std::vector<long long>{5, 4, 3, 2, 1}), boost::test_tools::per_element());
  auto cancelled = queue({"list", "mail", "--status", "cancelled", "--json"});
  BOOST_TEST(ids_of(json_lines(cancelled.out)) == (std::vector<long long>{4, 2}), boost::test_tools::per_element());
  auto limited = queue({"list", "mail", "--limit", "2", "--json"});
  BOOST_TEST(ids_of(json_lines(limited.out)) == (std::vector<long long>{5, 4}), boost::test_tools::per_element());
  auto both = queue({"list", "mail", "--status", "pending", "--limit", "2", "--json"});
  BOOST_TEST(ids_of(json_lines(both.out)) == (std::vector<long long>{5, 3}), boost::test_tools::per_element());
  auto none = queue({"list", "mail", "--status", "dead", "--json"});
  BOOST_TEST(none.exit_code == 0);
  BOOST_TEST(none.out.empty());
  auto none_text = queue({"list", "mail", "--status", "dead"});
  BOOST_TEST(none_text.out ==
             "      ID STATUS     TYPE             PRIORITY ATTEMPTS RUN_AT                   LAST_ERROR\n");
}

BOOST_FIXTURE_TEST_CASE(list_json_prints_one_task_object_per_line, CliFixture) {
  BOOST_TEST_REQUIRE(
      queue({"enqueue", "mail", "send", "--data", R"({"to":"ops"})", "--priority", "4", "--unique-key", "u"})
          .exit_code == 0);
  auto r = queue({"list", "mail", "--json"});
  BOOST_TEST(r.exit_code == 0);
  auto docs = json_lines(r.out);
  BOOST_TEST_REQUIRE(docs.size() == 1u);
  const auto& t = docs[0];
  BOOST_TEST(t["id"] == 1);
  BOOST_TEST(t["queue"] == "mail");
  BOOST_TEST(t["type"] == "send");
  BOOST_TEST(t["status"] == "pending");
  BOOST_TEST(t["priority"] == 4);
  BOOST_TEST(t["unique_key"] == "u");
  BOOST_TEST(t["payload"] == (json{{"to", "ops"}}));
  BOOST_TEST(t["run_at"] == format_iso8601(sql_int("SELECT run_at FROM tasks WHERE id = 1")));
  BOOST_TEST(t["finished_at"].is_null());
  BOOST_TEST(!t.contains("attempt_history"));
}

BOOST_FIXTURE_TEST_CASE(show_text_has_the_task_and_its_attempt_history, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send", "--data", R"({"a":[1,2]})", "--priority", "2", "--unique-key",
                            "u1", "--max-attempts", "5"})
                         .exit_code == 0);
  auto start = now_ms();
  {
    LibraryWorker worker(db_path(), start);
    auto first = worker.claim("mail");
    worker.advance(1000);
    worker.fail(first, oos::policy::FailureKind::retryable, "boom\nagain", 3);
    worker.advance(500);
    auto second = worker.claim("mail");
    worker.advance(250);
    worker.fail(second, oos::policy::FailureKind::temporary, "busy", 75);
  }
  auto run_at = format_iso8601(sql_int("SELECT run_at FROM tasks WHERE id = 1"));
  auto created = format_iso8601(sql_int("SELECT created_at FROM tasks WHERE id = 1"));

  auto r = queue({"show", "1"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out ==
             "id:            1\n"
             "queue:         mail\n"
             "type:          send\n"
             "status:        pending\n"
             "priority:      2\n"
             "attempts:      2/5\n"
             "run at:        " +
                 run_at +
                 "\n"
                 "created:       " +
                 created +
                 "\n"
                 "unique key:    u1\n"
                 "last worker:   w1\n"
                 "payload:       {\"a\":[1,2]}\n"
                 "last error:    busy\n"
                 "attempts:\n"
                 "  #1   failed     " +
                 format_iso8601(start + 1000) +
                 " worker=w1 exit=3 boom\\nagain\n"
                 "  #2   temporary  " +
                 format_iso8601(start + 1750) + " worker=w1 exit=75 busy\n");
  BOOST_TEST(run_at == format_iso8601(start + 1750));
}

BOOST_FIXTURE_TEST_CASE(show_json_includes_the_attempt_history, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send", "--data", R"({"a":1})", "--max-attempts", "2"}).exit_code == 0);
  auto start = now_ms();
  {
    LibraryWorker worker(db_path(), start, "node-a");
    auto first = worker.claim("mail");
    worker.advance(1000);
    worker.fail(first, oos::policy::FailureKind::retryable, "boom", 3);
    auto second = worker.claim("mail");
    worker.advance(2000);
    worker.fail(second, oos::policy::FailureKind::retryable, "boom again", 4);
  }
  auto r = queue({"show", "1", "--json"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.err.empty());
  auto doc = json::parse(r.out);
  BOOST_TEST(doc["id"] == 1);
  BOOST_TEST(doc["status"] == "dead");
  BOOST_TEST(doc["attempts"] == 2);
  BOOST_TEST(doc["max_attempts"] == 2);
  BOOST_TEST(doc["last_error"] == "boom again");
  BOOST_TEST(doc["finished_at"] == format_iso8601(start + 3000));
  BOOST_TEST(doc["payload"] == (json{{"a", 1}}));
  BOOST_TEST(doc["unique_key"].is_null());
  BOOST_TEST(doc["created_at"] == format_iso8601(sql_int("SELECT created_at FROM tasks WHERE id = 1")));
  BOOST_TEST(doc["attempt_history"] == (json{{{"attempt", 1},
                                              {"replay", 0},
                                              {"worker", "node-a"},
                                              {"started_at", format_iso8601(start)},
                                              {"ended_at", format_iso8601(start + 1000)},
                                              {"outcome", "failed"},
                                              {"exit_code", 3},
                                              {"error", "boom"}},
                                             {{"attempt", 2},
                                              {"replay", 0},
                                              {"worker", "node-a"},
                                              {"started_at", format_iso8601(start + 1000)},
                                              {"ended_at", format_iso8601(start + 3000)},
                                              {"outcome", "failed"},
                                              {"exit_code", 4},
                                              {"error", "boom again"}}}));
}

BOOST_FIXTURE_TEST_CASE(show_json_of_a_task_never_run_has_an_empty_history, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  auto r = queue({"show", "1", "--json"});
  BOOST_TEST(r.exit_code == 0);
  auto doc = json::parse(r.out);
  BOOST_TEST(doc["attempt_history"] == json::array());
  BOOST_TEST(doc["payload"] == json::object());
  auto text = queue({"show", "1"});
  BOOST_TEST(text.out.find("attempts:\n") == std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(show_of_an_unknown_task_is_exit_66, CliFixture) {
  create_database();
  auto r = queue({"show", "42"});
  BOOST_TEST(r.exit_code == 66);
  BOOST_TEST(r.out.empty());
  BOOST_TEST(r.err == "oos-queue: error: task 42 not found\n");
  auto j = queue({"show", "42", "--json"});
  BOOST_TEST(j.exit_code == 66);
  BOOST_TEST(j.out.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(inspect)

BOOST_FIXTURE_TEST_CASE(
    show_json_survives_handler_output_that_is_not_utf8, CliFixture,
    *oos::test::sqlite_only("stores bytes that are not UTF-8, which a PostgreSQL text column refuses")) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  sql_exec("UPDATE tasks SET last_error = CAST(X'626164FF2062797465' AS TEXT) WHERE id = 1");  // "bad\xff byte"
  auto r = queue({"show", "1", "--json"});
  BOOST_TEST(r.exit_code == 0, r.err);
  auto doc = nlohmann::json::parse(r.out);
  BOOST_TEST(doc["last_error"].get<std::string>() == "bad\xEF\xBF\xBD byte");  // U+FFFD
}

BOOST_AUTO_TEST_SUITE_END()
