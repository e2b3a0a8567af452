#include <boost/test/unit_test.hpp>

#include <chrono>

#include <nlohmann/json.hpp>

#include "cli/cli_support.hpp"

using nlohmann::json;
using oos::test::CliFixture;
using oos::test::is_one_error_line;

BOOST_AUTO_TEST_SUITE(enqueue)

BOOST_FIXTURE_TEST_CASE(enqueue_prints_the_new_id_and_stores_a_pending_task, CliFixture) {
  auto r = queue({"enqueue", "mail", "send", "--data", R"({"to":"ops"})", "--priority", "3"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out == "1\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE queue = 'mail' AND type = 'send' AND status = 'pending' "
                     "AND priority = 3 AND payload = '{\"to\":\"ops\"}'") == 1);
}

BOOST_FIXTURE_TEST_CASE(invalid_json_payload_is_exit_65_and_stores_nothing, CliFixture) {
  BOOST_TEST(queue({"enqueue", "mail", "send"}).exit_code == 0);
  auto r = queue({"enqueue", "mail", "send", "--data", R"({"to":})"});
  BOOST_TEST(r.exit_code == 65);
  BOOST_TEST(r.err == "oos-queue: error: payload is not valid JSON at offset 6: unexpected '}'\n");
  BOOST_TEST(r.out.empty());
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 1);
}

// Found by fuzz_json: a number beyond double was an internal error (70, "this is a bug").
BOOST_FIXTURE_TEST_CASE(a_payload_with_a_number_beyond_double_is_exit_65_and_stores_nothing, CliFixture) {
  auto r = queue({"enqueue", "mail", "send", "--data", R"({"n":[1e400]})"});
  BOOST_TEST(r.exit_code == 65);
  BOOST_TEST(r.err == "oos-queue: error: payload is not valid JSON: number overflow parsing '1e400'\n");
  BOOST_TEST(r.out.empty());
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
}

BOOST_FIXTURE_TEST_CASE(a_payload_nested_deeper_than_65_levels_is_exit_65_and_stores_nothing, CliFixture) {
  auto ok = queue({"enqueue", "mail", "send", "--data", std::string(65, '[') + std::string(65, ']')});
  BOOST_TEST(ok.exit_code == 0);
  auto payload = dir() / "deep.json";
  oos::test::write_file(payload, std::string(100000, '[') + std::string(100000, ']'));
  auto r = queue({"enqueue", "mail", "send", "--data", "@" + payload.string()});
  BOOST_TEST(r.exit_code == 65);
  BOOST_TEST(r.err == "oos-queue: error: payload is nested deeper than 65 levels\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 1);
}

BOOST_FIXTURE_TEST_CASE(a_payload_over_max_payload_is_exit_65_and_stores_nothing, CliFixture) {
  write_config("[queue]\nmax_payload = \"1KB\"\n");
  auto fits = dir() / "fits.json";
  oos::test::write_file(fits, "\"" + std::string(1022, 'a') + "\"");
  BOOST_TEST(queue({"enqueue", "mail", "send", "--data", "@" + fits.string()}).exit_code == 0);
  auto over = dir() / "over.json";
  oos::test::write_file(over, "\"" + std::string(1023, 'a') + "\"");
  for (const auto& r : {queue({"enqueue", "mail", "send", "--data", "@" + over.string()}),
                        queue({"enqueue", "mail", "send", "--data", "-"}, "\"" + std::string(1023, 'a') + "\""),
                        queue({"enqueue", "mail", "send", "--data", "\"" + std::string(1023, 'a') + "\""})}) {
    BOOST_TEST(r.exit_code == 65);
    BOOST_TEST(r.err == "oos-queue: error: payload is larger than 1 KiB (queue.max_payload)\n");
  }
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 1);
}

BOOST_FIXTURE_TEST_CASE(data_from_dev_zero_is_refused_at_the_limit_not_read_to_the_end, CliFixture) {
  auto started = std::chrono::steady_clock::now();
  auto r = queue({"enqueue", "mail", "send", "--data", "@/dev/zero"});
  BOOST_TEST(r.exit_code == 65);
  BOOST_TEST(r.err == "oos-queue: error: payload is larger than 1 MiB (queue.max_payload)\n");
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started);
  BOOST_TEST(seconds.count() < 10);
}

BOOST_FIXTURE_TEST_CASE(without_options_the_task_gets_the_defaults, CliFixture) {
  auto r = queue({"enqueue", "mail", "send"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out == "1\n");
  BOOST_TEST(r.err.empty());
  BOOST_TEST(sql_text("SELECT payload FROM tasks WHERE id = 1") == "{}");
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = 1") == "pending");
  BOOST_TEST(sql_int("SELECT priority FROM tasks WHERE id = 1") == 0);
  BOOST_TEST(sql_int("SELECT attempts FROM tasks WHERE id = 1") == 0);
  BOOST_TEST(sql_int("SELECT max_attempts FROM tasks WHERE id = 1") == 10);
  BOOST_TEST(sql_int("SELECT unique_key IS NULL FROM tasks WHERE id = 1") == 1);
  BOOST_TEST(sql_int("SELECT run_at = created_at FROM tasks WHERE id = 1") == 1);
}

BOOST_FIXTURE_TEST_CASE(data_from_a_file_is_stored_as_written, CliFixture) {
  auto payload = dir() / "payload.json";
  oos::test::write_file(payload, R"({"file":true,"list":[1,2]})");
  auto r = queue({"enqueue", "mail", "send", "--data", "@" + payload.string()});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out == "1\n");
  BOOST_TEST(sql_text("SELECT payload FROM tasks WHERE id = 1") == R"({"file":true,"list":[1,2]})");
}

BOOST_FIXTURE_TEST_CASE(data_dash_reads_the_payload_from_stdin, CliFixture) {
  auto r = queue({"enqueue", "mail", "send", "--data", "-"}, R"({"from":"stdin"})");
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out == "1\n");
  BOOST_TEST(sql_text("SELECT payload FROM tasks WHERE id = 1") == R"({"from":"stdin"})");
}

BOOST_FIXTURE_TEST_CASE(empty_stdin_for_data_dash_is_invalid_json, CliFixture) {
  auto r = queue({"enqueue", "mail", "send", "--data", "-"}, "");
  BOOST_TEST(r.exit_code == 65);
  BOOST_TEST(r.err == "oos-queue: error: payload is not valid JSON at offset 0: unexpected end of input\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
}

BOOST_FIXTURE_TEST_CASE(negative_priority_is_stored, CliFixture) {
  auto r = queue({"enqueue", "mail", "send", "--priority", "-5"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(sql_int("SELECT priority FROM tasks WHERE id = 1") == -5);
}

BOOST_FIXTURE_TEST_CASE(delay_puts_run_at_in_the_future_and_the_task_is_pending_but_not_runnable, CliFixture) {
  auto r = queue({"enqueue", "mail", "send", "--delay", "1h"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out == "1\n");
  BOOST_TEST(sql_int("SELECT run_at - created_at FROM tasks WHERE id = 1") == 3'600'000);
  BOOST_TEST(sql_int("SELECT run_at FROM tasks WHERE id = 1") > oos::test::now_ms() + 3'500'000);

  auto status = queue({"status", "--json"});
  BOOST_TEST(status.exit_code == 0);
  auto doc = json::parse(status.out);
  BOOST_TEST_REQUIRE(doc["queues"].size() == 1u);
  const auto& mail = doc["queues"][0];
  BOOST_TEST(mail["name"] == "mail");
  BOOST_TEST(mail["pending"] == 1);
  BOOST_TEST(mail["runnable"] == 0);
  BOOST_TEST(mail["oldest_pending_age_seconds"].is_null());
}

BOOST_FIXTURE_TEST_CASE(delay_in_milliseconds_is_accepted, CliFixture) {
  BOOST_TEST(queue({"enqueue", "mail", "send", "--delay", "500ms"}).exit_code == 0);
  BOOST_TEST(sql_int("SELECT run_at - created_at FROM tasks WHERE id = 1") == 500);
}

BOOST_FIXTURE_TEST_CASE(a_delay_too_large_for_the_clock_is_refused_not_wrapped_around, CliFixture) {
  // 106751991167d fits in int64 milliseconds on its own, but now + delay does not.
  auto r = queue({"enqueue", "mail", "send", "--delay", "106751991167d"});
  BOOST_TEST(r.exit_code == 64);
  BOOST_TEST(r.out.empty());
  BOOST_TEST(r.err.starts_with("oos-queue: error: --delay: "));
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE run_at < created_at") == 0);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
}

BOOST_FIXTURE_TEST_CASE(max_attempts_is_stored_and_shown, CliFixture) {
  BOOST_TEST(queue({"enqueue", "mail", "send", "--max-attempts", "3"}).exit_code == 0);
  BOOST_TEST(sql_int("SELECT max_attempts FROM tasks WHERE id = 1") == 3);
  auto show = queue({"show", "1", "--json"});
  BOOST_TEST(show.exit_code == 0);
  BOOST_TEST(json::parse(show.out)["max_attempts"] == 3);
}

BOOST_FIXTURE_TEST_CASE(max_attempts_defaults_to_the_queue_setting_of_the_config, CliFixture) {
  write_config("[queues.mail]\nmax_attempts = 4\n");
  BOOST_TEST(queue({"enqueue", "mail", "send"}).exit_code == 0);
  BOOST_TEST(queue({"enqueue", "other", "send"}).exit_code == 0);
  BOOST_TEST(sql_int("SELECT max_attempts FROM tasks WHERE queue = 'mail'") == 4);
  BOOST_TEST(sql_int("SELECT max_attempts FROM tasks WHERE queue = 'other'") == 10);
}

BOOST_FIXTURE_TEST_CASE(json_output_has_id_created_queue_and_type, CliFixture) {
  auto r = queue({"enqueue", "mail", "send", "--json"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.err.empty());
  auto doc = json::parse(r.out);
  BOOST_TEST(doc == (json{{"id", 1}, {"created", true}, {"queue", "mail"}, {"type", "send"}}));
  BOOST_TEST(doc["id"].is_number_integer());
  BOOST_TEST(doc["created"].is_boolean());
  BOOST_TEST(r.out.ends_with("}\n"));
}

BOOST_FIXTURE_TEST_CASE(unique_key_returns_the_pending_task_instead_of_a_duplicate, CliFixture) {
  auto first = queue({"enqueue", "mail", "send", "--unique-key", "user-7", "--json"});
  BOOST_TEST(first.exit_code == 0);
  BOOST_TEST(json::parse(first.out) == (json{{"id", 1}, {"created", true}, {"queue", "mail"}, {"type", "send"}}));

  auto second = queue({"enqueue", "mail", "send", "--unique-key", "user-7", "--data", R"({"x":2})", "--json"});
  BOOST_TEST(second.exit_code == 0);
  BOOST_TEST(json::parse(second.out) == (json{{"id", 1}, {"created", false}, {"queue", "mail"}, {"type", "send"}}));

  auto plain = queue({"enqueue", "mail", "send", "--unique-key", "user-7"});
  BOOST_TEST(plain.exit_code == 0);
  BOOST_TEST(plain.out == "1\n");

  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 1);
  BOOST_TEST(sql_text("SELECT payload FROM tasks WHERE id = 1") == "{}");
}

BOOST_FIXTURE_TEST_CASE(unique_key_also_matches_a_running_task, CliFixture) {
  BOOST_TEST(queue({"enqueue", "mail", "send", "--unique-key", "k"}).exit_code == 0);
  sql_exec("UPDATE tasks SET status = 'running', attempts = 1 WHERE id = 1");
  auto r = queue({"enqueue", "mail", "send", "--unique-key", "k", "--json"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(json::parse(r.out)["id"] == 1);
  BOOST_TEST(json::parse(r.out)["created"] == false);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 1);
}

BOOST_FIXTURE_TEST_CASE(unique_key_creates_a_new_task_once_the_first_is_cancelled, CliFixture) {
  BOOST_TEST(queue({"enqueue", "mail", "send", "--unique-key", "k"}).out == "1\n");
  BOOST_TEST(queue({"cancel", "1"}).exit_code == 0);
  auto r = queue({"enqueue", "mail", "send", "--unique-key", "k", "--json"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(json::parse(r.out) == (json{{"id", 2}, {"created", true}, {"queue", "mail"}, {"type", "send"}}));
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE unique_key = 'k'") == 2);
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = 1") == "cancelled");
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = 2") == "pending");
}

BOOST_FIXTURE_TEST_CASE(unique_key_is_per_queue, CliFixture) {
  BOOST_TEST(queue({"enqueue", "mail", "send", "--unique-key", "k"}).out == "1\n");
  auto r = queue({"enqueue", "sms", "send", "--unique-key", "k", "--json"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(json::parse(r.out)["created"] == true);
  BOOST_TEST(json::parse(r.out)["id"] == 2);
}

BOOST_FIXTURE_TEST_CASE(a_failed_enqueue_leaves_the_rows_unchanged, CliFixture) {
  BOOST_TEST(queue({"enqueue", "mail", "send", "--data", R"({"n":1})"}).exit_code == 0);
  auto payload_file = (dir() / "missing.json").string();
  const std::vector<std::pair<std::vector<std::string>, int>> failures{
      {{"enqueue", "mail", "send", "--data", "[1,"}, 65},
      {{"enqueue", "mail", "send", "--data", "@" + payload_file}, 66},
      {{"enqueue", "mail", "send", "--delay", "soon"}, 64},
      {{"enqueue", "mail", "send", "--max-attempts", "0"}, 64},
      {{"enqueue", "mail", "bad type"}, 64},
      {{"enqueue", "a b", "send"}, 64},
      {{"enqueue", "mail"}, 64},
  };
  for (const auto& [args, code] : failures) {
    auto r = queue(args);
    BOOST_TEST(r.exit_code == code, "exit code of " << args.back());
    BOOST_TEST(r.out.empty());
    BOOST_TEST(is_one_error_line(r.err), r.err);
    BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 1);
  }
  BOOST_TEST(sql_text("SELECT payload FROM tasks") == R"({"n":1})");
  BOOST_TEST(sql_int("SELECT count(*) FROM events") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
