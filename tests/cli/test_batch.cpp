#include <boost/test/unit_test.hpp>

#include <SQLiteCpp/Database.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli_support.hpp"

using nlohmann::json;
using oos::test::CliFixture;
using oos::test::is_one_error_line;

BOOST_AUTO_TEST_SUITE(batch)

BOOST_FIXTURE_TEST_CASE(each_stdin_line_becomes_a_task_and_its_id_is_printed, CliFixture) {
  auto r = queue({"enqueue", "mail", "--batch"},
                 "{\"type\":\"send\"}\n"
                 "{\"type\":\"send\",\"data\":{\"to\":\"ops\"}}\n"
                 "{\"type\":\"digest\",\"data\":[1,2],\"priority\":5,\"delay\":\"1m\",\"max_attempts\":3,"
                 "\"unique_key\":\"d-1\"}\n");
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out == "1\n2\n3\n");
  BOOST_TEST(r.err.empty());
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE queue = 'mail' AND status = 'pending'") == 3);
  BOOST_TEST(sql_text("SELECT payload FROM tasks WHERE id = 1") == "{}");
  BOOST_TEST(sql_text("SELECT payload FROM tasks WHERE id = 2") == R"({"to":"ops"})");
  BOOST_TEST(sql_text("SELECT type FROM tasks WHERE id = 3") == "digest");
  BOOST_TEST(sql_text("SELECT payload FROM tasks WHERE id = 3") == "[1,2]");
  BOOST_TEST(sql_int("SELECT priority FROM tasks WHERE id = 3") == 5);
  BOOST_TEST(sql_int("SELECT run_at - created_at FROM tasks WHERE id = 3") == 60'000);
  BOOST_TEST(sql_int("SELECT max_attempts FROM tasks WHERE id = 3") == 3);
  BOOST_TEST(sql_text("SELECT unique_key FROM tasks WHERE id = 3") == "d-1");
  BOOST_TEST(sql_int("SELECT max_attempts FROM tasks WHERE id = 1") == 10);
}

BOOST_FIXTURE_TEST_CASE(the_whole_batch_is_written_at_one_instant, CliFixture) {
  std::string lines;
  for (int i = 0; i < 50; ++i) lines += "{\"type\":\"t\",\"data\":{\"i\":" + std::to_string(i) + "}}\n";
  auto r = queue({"enqueue", "bulk", "--batch"}, lines);
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(std::count(r.out.begin(), r.out.end(), '\n') == 50);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 50);
  BOOST_TEST(sql_int("SELECT count(DISTINCT created_at) FROM tasks") == 1);
  BOOST_TEST(sql_text("SELECT payload FROM tasks WHERE id = 50") == R"({"i":49})");
}

BOOST_FIXTURE_TEST_CASE(json_prints_one_object_per_line, CliFixture) {
  auto r = queue({"enqueue", "mail", "--batch", "--json"}, "{\"type\":\"a\"}\n{\"type\":\"b\"}\n");
  BOOST_TEST(r.exit_code == 0);
  std::istringstream lines(r.out);
  std::string line;
  std::vector<json> docs;
  while (std::getline(lines, line)) docs.push_back(json::parse(line));
  BOOST_TEST_REQUIRE(docs.size() == 2u);
  BOOST_TEST(docs[0] == (json{{"id", 1}, {"created", true}, {"queue", "mail"}, {"type", "a"}}));
  BOOST_TEST(docs[1] == (json{{"id", 2}, {"created", true}, {"queue", "mail"}, {"type", "b"}}));
}

BOOST_FIXTURE_TEST_CASE(blank_lines_are_skipped_but_still_counted, CliFixture) {
  auto ok = queue({"enqueue", "mail", "--batch"}, "\n{\"type\":\"a\"}\n   \n\t\n{\"type\":\"b\"}\n\n");
  BOOST_TEST(ok.exit_code == 0);
  BOOST_TEST(ok.out == "1\n2\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 2);

  auto bad = queue({"enqueue", "mail", "--batch"}, "{\"type\":\"a\"}\n\n  \n{\"type\":\"b\",\"zz\":1}\n");
  BOOST_TEST(bad.exit_code == 65);
  BOOST_TEST(bad.err == "oos-queue: error: stdin line 4: unknown field 'zz'\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 2);
}

BOOST_FIXTURE_TEST_CASE(empty_stdin_adds_nothing, CliFixture) {
  auto r = queue({"enqueue", "mail", "--batch"}, "");
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out.empty());
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
}

BOOST_FIXTURE_TEST_CASE(invalid_json_on_a_line_is_exit_65_naming_the_line_and_stores_nothing, CliFixture) {
  BOOST_TEST(queue({"enqueue", "mail", "send"}).exit_code == 0);
  auto r = queue({"enqueue", "mail", "--batch"}, "{\"type\":\"a\"}\n{\"type\":\n{\"type\":\"c\"}\n");
  BOOST_TEST(r.exit_code == 65);
  BOOST_TEST(r.out.empty());
  BOOST_TEST(r.err == "oos-queue: error: stdin line 2: expected a JSON object such as {\"type\":\"t\",\"data\":{}}\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 1);
}

BOOST_FIXTURE_TEST_CASE(a_line_that_is_not_an_object_is_exit_65, CliFixture) {
  auto r = queue({"enqueue", "mail", "--batch"}, "[1,2]\n");
  BOOST_TEST(r.exit_code == 65);
  BOOST_TEST(r.err == "oos-queue: error: stdin line 1: expected a JSON object such as {\"type\":\"t\",\"data\":{}}\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
}

BOOST_FIXTURE_TEST_CASE(an_unknown_field_is_exit_65_and_stores_nothing, CliFixture) {
  auto r = queue({"enqueue", "mail", "--batch"}, "{\"type\":\"a\"}\n{\"type\":\"b\",\"payload\":{}}\n");
  BOOST_TEST(r.exit_code == 65);
  BOOST_TEST(r.out.empty());
  BOOST_TEST(r.err == "oos-queue: error: stdin line 2: unknown field 'payload'\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
}

BOOST_FIXTURE_TEST_CASE(a_missing_type_is_exit_65_and_stores_nothing, CliFixture) {
  auto r = queue({"enqueue", "mail", "--batch"}, "{\"type\":\"a\"}\n{\"type\":\"b\"}\n{\"data\":{}}\n");
  BOOST_TEST(r.exit_code == 65);
  BOOST_TEST(r.err == "oos-queue: error: stdin line 3: missing field 'type'\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
}

BOOST_FIXTURE_TEST_CASE(a_bad_delay_is_exit_65_and_stores_nothing, CliFixture) {
  auto r = queue({"enqueue", "mail", "--batch"}, "{\"type\":\"a\",\"delay\":\"soon\"}\n");
  BOOST_TEST(r.exit_code == 65);
  BOOST_TEST(
      r.err ==
      "oos-queue: error: stdin line 1: field 'delay' must be a duration string such as \"30s\", at most 3650d\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);

  auto numeric = queue({"enqueue", "mail", "--batch"}, "{\"type\":\"a\"}\n{\"type\":\"a\",\"delay\":30}\n");
  BOOST_TEST(numeric.exit_code == 65);
  BOOST_TEST(
      numeric.err ==
      "oos-queue: error: stdin line 2: field 'delay' must be a duration string such as \"30s\", at most 3650d\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
}

BOOST_FIXTURE_TEST_CASE(wrongly_typed_fields_are_exit_65_naming_the_field, CliFixture) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {R"({"type":7})", "stdin line 1: field 'type' must be a string"},
      {R"({"type":"a","priority":"high"})", "stdin line 1: field 'priority' must be an integer that fits 32 bits"},
      {R"({"type":"a","max_attempts":0})", "stdin line 1: field 'max_attempts' must be an integer of at least 1"},
      {R"({"type":"a","unique_key":5})", "stdin line 1: field 'unique_key' must be a string"},
      {R"({"type":"a b"})", "stdin line 1: invalid type name 'a b': use 1-64 letters, digits, '_', '-', '.' or ':'"},
  };
  for (const auto& [line, message] : cases) {
    auto r = queue({"enqueue", "mail", "--batch"}, line + "\n");
    BOOST_TEST(r.exit_code == 65, line);
    BOOST_TEST(r.err == "oos-queue: error: " + message + "\n");
    BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
  }
}

BOOST_FIXTURE_TEST_CASE(integers_out_of_range_are_refused_not_truncated, CliFixture) {
  // 4294967298 = 2^32 + 2 and 4294967297 = 2^32 + 1: truncated to int they would be 2 and 1.
  auto priority = queue({"enqueue", "mail", "--batch"}, "{\"type\":\"a\",\"priority\":4294967298}\n");
  BOOST_TEST(priority.exit_code == 65);
  BOOST_TEST(priority.err.starts_with("oos-queue: error: stdin line 1: field 'priority'"), priority.err);
  auto attempts = queue({"enqueue", "mail", "--batch"}, "{\"type\":\"a\",\"max_attempts\":4294967297}\n");
  BOOST_TEST(attempts.exit_code == 65);
  BOOST_TEST(attempts.err.starts_with("oos-queue: error: stdin line 1: field 'max_attempts'"), attempts.err);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE priority = 2 OR max_attempts = 1") == 0);
}

BOOST_FIXTURE_TEST_CASE(a_repeated_unique_key_in_one_batch_yields_the_same_id, CliFixture) {
  auto r = queue({"enqueue", "mail", "--batch", "--json"},
                 "{\"type\":\"a\",\"unique_key\":\"k\"}\n{\"type\":\"a\",\"unique_key\":\"k\"}\n{\"type\":\"b\"}\n");
  BOOST_TEST(r.exit_code == 0);
  std::istringstream lines(r.out);
  std::string line;
  std::vector<json> docs;
  while (std::getline(lines, line)) docs.push_back(json::parse(line));
  BOOST_TEST_REQUIRE(docs.size() == 3u);
  BOOST_TEST(docs[0]["id"] == 1);
  BOOST_TEST(docs[0]["created"] == true);
  BOOST_TEST(docs[1]["id"] == 1);
  BOOST_TEST(docs[1]["created"] == false);
  BOOST_TEST(docs[2]["id"] == 2);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 2);
}

BOOST_FIXTURE_TEST_CASE(type_or_data_arguments_with_batch_are_a_usage_error, CliFixture) {
  auto with_type = queue({"enqueue", "mail", "send", "--batch"}, "{\"type\":\"a\"}\n");
  BOOST_TEST(with_type.exit_code == 64);
  BOOST_TEST(with_type.err ==
             "oos-queue: error: enqueue --batch takes the type and data from each stdin line, not arguments\n");
  auto with_data = queue({"enqueue", "mail", "--batch", "--data", "{}"}, "{\"type\":\"a\"}\n");
  BOOST_TEST(with_data.exit_code == 64);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
}

BOOST_FIXTURE_TEST_CASE(an_invalid_queue_name_with_batch_is_a_usage_error, CliFixture) {
  auto r = queue({"enqueue", "a b", "--batch"}, "{\"type\":\"a\"}\n");
  BOOST_TEST(r.exit_code == 64);
  BOOST_TEST(
      r.err ==
      "oos-queue: error: queue: invalid name 'a b': use 1-64 letters, digits, '_', '-', '.' or ':' (see --help)\n");
  BOOST_TEST(!std::filesystem::exists(db_path()));  // refused before anything was opened
}

BOOST_FIXTURE_TEST_CASE(a_line_longer_than_max_payload_and_its_envelope_is_exit_65_and_stores_nothing, CliFixture) {
  write_config("[queue]\nmax_payload = \"1KB\"\n");
  auto line = [](std::size_t size) { return R"({"type":"t","data":")" + std::string(size, 'a') + "\"}\n"; };
  auto r = queue({"enqueue", "q", "--batch"}, line(10) + line(65 * 1024 + 1));
  BOOST_TEST(r.exit_code == 65);
  BOOST_TEST(r.err == "oos-queue: error: stdin line 2: longer than 65 KiB (queue.max_payload + 64 KiB)\n");
  // Within the envelope but a payload over max_payload: refused by the store.
  auto payload = queue({"enqueue", "q", "--batch"}, line(10) + line(2000));
  BOOST_TEST(payload.exit_code == 65);
  BOOST_TEST(payload.err == "oos-queue: error: payload is larger than 1 KiB (queue.max_payload)\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
}

BOOST_FIXTURE_TEST_CASE(a_line_nested_too_deep_is_exit_65_before_it_is_parsed, CliFixture) {
  auto deep = R"({"type":"t","data":)" + std::string(100000, '[') + std::string(100000, ']') + "}\n";
  auto r = queue({"enqueue", "q", "--batch"}, deep);
  BOOST_TEST(r.exit_code == 65);
  BOOST_TEST(r.err == "oos-queue: error: stdin line 1: payload is nested deeper than 65 levels\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
}

BOOST_FIXTURE_TEST_CASE(a_busy_database_fails_the_whole_batch_with_75, CliFixture,
                        *oos::test::sqlite_only("holds SQLite's write lock (db.busy_timeout)")) {
  write_config("[db]\nbusy_timeout = \"200ms\"\n");
  create_database();
  {
    SQLite::Database holder(db_path().string(), SQLite::OPEN_READWRITE);
    holder.exec("BEGIN IMMEDIATE");
    auto r = queue({"enqueue", "mail", "--batch"}, "{\"type\":\"a\"}\n{\"type\":\"b\"}\n");
    BOOST_TEST(r.exit_code == 75);
    BOOST_TEST(r.out.empty());
    BOOST_TEST(is_one_error_line(r.err), r.err);
    BOOST_TEST(r.err.find("busy") != std::string::npos);
    holder.exec("ROLLBACK");
  }
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
