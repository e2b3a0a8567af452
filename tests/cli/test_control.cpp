#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "cli/cli_support.hpp"
#include "util/time.hpp"

using nlohmann::json;
using oos::test::CliFixture;
using oos::test::is_one_error_line;
using oos::test::now_ms;

namespace {

// Opens the breaker of `queue` (a plain name) as a worker would after `failures` failed runs, `ago_ms` ago,
// through a connection of the test's own.
void open_breaker(CliFixture& f, const std::string& queue, int failures, std::int64_t ago_ms) {
  const std::string at = std::to_string(now_ms() - ago_ms);
  f.sql_exec(
      "INSERT INTO breakers (kind, name, state, consecutive_failures, opened_at, cooldown_ms, updated_at) "
      "VALUES ('queue', '" +
      queue + "', 'open', " + std::to_string(failures) + ", " + at + ", 60000, " + at + ")");
}

const json k_closed_breaker = json::parse(oos::test::k_closed_breaker_json);

}  // namespace

BOOST_AUTO_TEST_SUITE(control)

BOOST_FIXTURE_TEST_CASE(cancel_turns_a_pending_task_into_a_cancelled_one, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  auto r = queue({"cancel", "1"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out == "task 1 cancelled\n");
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = 1") == "cancelled");
  BOOST_TEST(sql_int("SELECT finished_at IS NOT NULL FROM tasks WHERE id = 1") == 1);
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = 2") == "pending");
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'task.cancel' AND object = 'task/1'") == 1);
}

BOOST_FIXTURE_TEST_CASE(cancelling_twice_is_exit_1_saying_it_is_cancelled, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  BOOST_TEST_REQUIRE(queue({"cancel", "1"}).exit_code == 0);
  auto r = queue({"cancel", "1"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.out.empty());
  BOOST_TEST(r.err == "oos-queue: error: task 1 is cancelled; only pending tasks can be cancelled\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'task.cancel'") == 1);
}

BOOST_FIXTURE_TEST_CASE(a_running_task_cannot_be_cancelled, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  sql_exec("UPDATE tasks SET status = 'running', attempts = 1 WHERE id = 1");
  auto r = queue({"cancel", "1"});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.err == "oos-queue: error: task 1 is running; only pending tasks can be cancelled\n");
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = 1") == "running");
}

BOOST_FIXTURE_TEST_CASE(cancelling_an_unknown_task_is_exit_66, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  auto r = queue({"cancel", "99"});
  BOOST_TEST(r.exit_code == 66);
  BOOST_TEST(r.out.empty());
  BOOST_TEST(r.err == "oos-queue: error: task 99 not found\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM events") == 0);
}

BOOST_FIXTURE_TEST_CASE(pause_sets_the_flag_once_and_says_when_it_already_was, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  auto first = queue({"pause", "mail"});
  BOOST_TEST(first.exit_code == 0);
  BOOST_TEST(first.out == "queue mail paused\n");
  BOOST_TEST(sql_int("SELECT paused FROM queues WHERE name = 'mail'") == 1);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'queue.pause' AND object = 'queue/mail'") == 1);

  auto again = queue({"pause", "mail"});
  BOOST_TEST(again.exit_code == 0);
  BOOST_TEST(again.out == "queue mail was already paused\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'queue.pause'") == 1);

  auto status = queue({"status", "--json"});
  BOOST_TEST(json::parse(status.out)["queues"][0]["paused"] == true);
  // Pausing keeps the tasks: still pending and runnable as far as counts go.
  BOOST_TEST(json::parse(status.out)["queues"][0]["pending"] == 1);
}

BOOST_FIXTURE_TEST_CASE(resume_clears_the_flag_once_and_says_when_it_already_was, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"pause", "mail"}).exit_code == 0);
  auto first = queue({"resume", "mail"});
  BOOST_TEST(first.exit_code == 0);
  BOOST_TEST(first.out == "queue mail resumed\n");
  BOOST_TEST(sql_int("SELECT paused FROM queues WHERE name = 'mail'") == 0);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'queue.resume' AND object = 'queue/mail'") == 1);

  auto again = queue({"resume", "mail"});
  BOOST_TEST(again.exit_code == 0);
  BOOST_TEST(again.out == "queue mail was already resumed\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'queue.resume'") == 1);
  BOOST_TEST(json::parse(queue({"status", "--json"}).out)["queues"][0]["paused"] == false);
}

BOOST_FIXTURE_TEST_CASE(pausing_an_invalid_queue_name_is_a_usage_error, CliFixture) {
  auto r = queue({"pause", "a b"});
  BOOST_TEST(r.exit_code == 64);
  BOOST_TEST(
      r.err ==
      "oos-queue: error: queue: invalid name 'a b': use 1-64 letters, digits, '_', '-', '.' or ':' (see --help)\n");
  BOOST_TEST(!std::filesystem::exists(db_path()));  // refused before anything was opened
}

BOOST_FIXTURE_TEST_CASE(a_breaker_is_closed_by_default, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  auto text = queue({"breaker", "mail"});
  BOOST_TEST(text.exit_code == 0);
  BOOST_TEST(text.out == "breaker of queue mail: closed (0 consecutive failures)\n");
  auto j = queue({"breaker", "mail", "--json"});
  BOOST_TEST(j.exit_code == 0);
  BOOST_TEST(json::parse(j.out) == (json{{"queue", "mail"}, {"breaker", k_closed_breaker}}));
  BOOST_TEST(sql_int("SELECT count(*) FROM breakers") == 0);
}

BOOST_FIXTURE_TEST_CASE(the_breaker_cooldown_comes_from_the_config, CliFixture) {
  write_config("[breaker]\ncooldown = \"2m\"\n");
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  auto j = queue({"breaker", "mail", "--json"});
  BOOST_TEST(json::parse(j.out)["breaker"]["cooldown_seconds"] == 120);
}

BOOST_FIXTURE_TEST_CASE(an_open_breaker_is_shown_with_its_probe_time_and_as_an_alert, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  open_breaker(*this, "mail", 10, 5000);
  auto opened_at = sql_int("SELECT opened_at FROM breakers");

  auto text = queue({"breaker", "mail"});
  BOOST_TEST(text.exit_code == 0);
  BOOST_TEST(text.out.starts_with("breaker of queue mail: open (10 consecutive failures)\nopened "));
  BOOST_TEST(text.out.ends_with("; reset with 'oos-queue breaker mail --reset'\n"));

  auto j = queue({"breaker", "mail", "--json"});
  BOOST_TEST(json::parse(j.out) == (json{{"queue", "mail"},
                                         {"breaker",
                                          {{"state", "open"},
                                           {"consecutive_failures", 10},
                                           {"cooldown_seconds", 60},
                                           {"opened_at", oos::util::format_iso8601(opened_at)},
                                           {"probe_at", oos::util::format_iso8601(opened_at + 60'000)}}}}));

  auto status = json::parse(queue({"status", "--json"}).out);
  const auto& mail = status["queues"][0];
  BOOST_TEST(mail["breaker"]["state"] == "open");
  BOOST_TEST(mail["alerts"] == (json{"breaker open after 10 consecutive failures"}));
}

BOOST_FIXTURE_TEST_CASE(reset_closes_an_open_breaker_and_records_an_event, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  open_breaker(*this, "mail", 10, 5000);

  auto r = queue({"breaker", "mail", "--reset"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out == "breaker of queue mail closed (was open)\n");
  BOOST_TEST(sql_text("SELECT state FROM breakers WHERE kind = 'queue' AND name = 'mail'") == "closed");
  BOOST_TEST(sql_int("SELECT consecutive_failures FROM breakers WHERE name = 'mail'") == 0);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'breaker.reset' AND object = 'queue/mail'") == 1);

  auto after = queue({"breaker", "mail"});
  BOOST_TEST(after.out == "breaker of queue mail: closed (0 consecutive failures)\n");
  BOOST_TEST(json::parse(queue({"status", "--json"}).out)["queues"][0]["alerts"] == json::array());

  // Resetting a closed breaker changes nothing and records nothing.
  auto again = queue({"breaker", "mail", "--reset"});
  BOOST_TEST(again.exit_code == 0);
  BOOST_TEST(again.out == "breaker of queue mail closed (was closed)\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'breaker.reset'") == 1);
}

BOOST_FIXTURE_TEST_CASE(reset_json_shows_the_state_before_and_after, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  open_breaker(*this, "mail", 12, 1000);
  auto r = queue({"breaker", "mail", "--reset", "--json"});
  BOOST_TEST(r.exit_code == 0);
  auto doc = json::parse(r.out);
  BOOST_TEST(doc["queue"] == "mail");
  BOOST_TEST(doc["was"]["state"] == "open");
  BOOST_TEST(doc["was"]["consecutive_failures"] == 12);
  BOOST_TEST(doc["breaker"] == k_closed_breaker);
}

BOOST_FIXTURE_TEST_CASE(a_queue_known_only_by_its_breaker_can_be_reset, CliFixture) {
  create_database();
  open_breaker(*this, "ghost", 10, 1000);
  auto r = queue({"breaker", "ghost", "--reset"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out == "breaker of queue ghost closed (was open)\n");
  BOOST_TEST(sql_text("SELECT state FROM breakers WHERE name = 'ghost'") == "closed");
}

BOOST_FIXTURE_TEST_CASE(the_breaker_of_an_unknown_queue_is_exit_66, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"breaker", "nope"}, std::vector<std::string>{"breaker", "nope", "--reset"}}) {
    auto r = queue(args);
    BOOST_TEST(r.exit_code == 66);
    BOOST_TEST(r.out.empty());
    BOOST_TEST(r.err == "oos-queue: error: queue 'nope' not found: it has no tasks and no [queues.nope] settings\n");
  }
  BOOST_TEST(sql_int("SELECT count(*) FROM breakers") == 0);
  BOOST_TEST(sql_int("SELECT count(*) FROM events") == 0);
}

BOOST_FIXTURE_TEST_CASE(breaker_of_an_invalid_queue_name_is_a_usage_error, CliFixture) {
  auto r = queue({"breaker", "a/b", "--reset"});
  BOOST_TEST(r.exit_code == 64);
  BOOST_TEST(is_one_error_line(r.err), r.err);
  BOOST_TEST(r.err.find("invalid name 'a/b'") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
