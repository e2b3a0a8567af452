// External workers (docs/reference.md section 8.1): oos-queue claim, complete, fail and renew as processes,
// fenced by the lease token as a worker is, on SQLite (cli.external) and PostgreSQL (cli_pg.external).
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "cli/cli_support.hpp"

using nlohmann::json;
using oos::test::CliFixture;
using oos::test::is_one_error_line;
using oos::test::now_ms;

namespace {

// The queue `mail` retries at once (backoff 0, no jitter) unless `backoff` is given.
void configure_mail(CliFixture& f, const std::string& backoff = "[0]") {
  f.write_config("[queues.mail]\nbackoff = " + backoff + "\nbackoff_jitter = 0.0\n");
}

// `oos-queue claim mail --json ARGS...`, which must exit 0; its document.
json claim(CliFixture& f, const std::vector<std::string>& args = {}) {
  std::vector<std::string> argv{"claim", "mail", "--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = f.queue(argv);
  BOOST_TEST_REQUIRE(r.exit_code == 0, "claim: " << r.err);
  return json::parse(r.out);
}

std::string token_of(const json& claimed) {
  return claimed.at("lease").at("token").get<std::string>();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(external)

BOOST_FIXTURE_TEST_CASE(claim_prints_the_task_with_its_lease_and_complete_succeeds_it, CliFixture) {
  configure_mail(*this);
  enqueue("mail", "send", {"--data", R"({"to":"ops@example.org"})"});
  auto claimed = claim(*this, {"--worker", "ext-1"});
  BOOST_TEST(claimed.at("id") == 1);
  BOOST_TEST(claimed.at("status") == "running");
  BOOST_TEST(claimed.at("attempts") == 1);
  BOOST_TEST(claimed.at("lease_owner") == "ext-1");
  BOOST_TEST(claimed.at("payload") == json::parse(R"({"to":"ops@example.org"})"));
  BOOST_TEST(token_of(claimed).size() >= 16u);
  BOOST_TEST(claimed.at("lease").at("expires_at") == claimed.at("lease_expires_at"));
  BOOST_TEST(sql_text("SELECT lease_token FROM tasks WHERE id = 1") == token_of(claimed));

  auto done = queue({"complete", "1", "--token", token_of(claimed), "--result", R"({"sent":true})"});
  BOOST_TEST(done.exit_code == 0, done.err);
  BOOST_TEST(done.out == "task 1 succeeded\n");
  BOOST_TEST(done.err.empty());
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = 1") == "succeeded");
  BOOST_TEST(sql_text("SELECT result FROM tasks WHERE id = 1") == R"({"sent":true})");
  BOOST_TEST(sql_text("SELECT lease_token FROM tasks WHERE id = 1").empty());
  BOOST_TEST(sql_text("SELECT outcome || ' ' || worker FROM task_attempts WHERE task_id = 1") == "succeeded ext-1");
  BOOST_TEST(sql_int("SELECT count(*) FROM task_attempts WHERE task_id = 1 AND exit_code IS NULL") == 1);
  // The run is counted as a worker's is (stats, metrics).
  BOOST_TEST(sql_int("SELECT CAST(sum(runs) AS bigint) FROM queue_counters WHERE queue = 'mail'") == 1);
}

BOOST_FIXTURE_TEST_CASE(claim_as_text_shows_the_task_and_the_token, CliFixture) {
  configure_mail(*this);
  enqueue("mail", "send");
  auto r = queue({"claim", "mail"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out.starts_with("id:            1\n"));
  BOOST_TEST(r.out.find("status:        running\n") != std::string::npos);
  BOOST_TEST(r.out.ends_with("lease token:   " + sql_text("SELECT lease_token FROM tasks WHERE id = 1") + "\n"));
}

BOOST_FIXTURE_TEST_CASE(nothing_to_claim_is_exit_0_with_null_or_one_line, CliFixture) {
  auto as_json = queue({"claim", "mail", "--json"});
  BOOST_TEST(as_json.exit_code == 0, as_json.err);
  BOOST_TEST(as_json.out == "null\n");
  auto as_text = queue({"claim", "mail"});
  BOOST_TEST(as_text.exit_code == 0);
  BOOST_TEST(as_text.out == "no task to claim in queue mail\n");
  // A delayed task is not runnable yet.
  enqueue("mail", "send", {"--delay", "1h"});
  BOOST_TEST(queue({"claim", "mail", "--json"}).out == "null\n");
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = 1") == "pending");
}

BOOST_FIXTURE_TEST_CASE(claim_honours_pause_and_an_open_breaker, CliFixture) {
  configure_mail(*this);
  enqueue("mail", "send");
  BOOST_TEST_REQUIRE(queue({"pause", "mail"}).exit_code == 0);
  BOOST_TEST(queue({"claim", "mail", "--json"}).out == "null\n");
  BOOST_TEST_REQUIRE(queue({"resume", "mail"}).exit_code == 0);

  const auto at = std::to_string(now_ms());
  sql_exec(
      "INSERT INTO breakers (kind, name, state, consecutive_failures, opened_at, cooldown_ms, updated_at) "
      "VALUES ('queue', 'mail', 'open', 10, " +
      at + ", 60000, " + at + ")");
  BOOST_TEST(queue({"claim", "mail", "--json"}).out == "null\n");
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = 1") == "pending");
  BOOST_TEST_REQUIRE(queue({"breaker", "mail", "--reset"}).exit_code == 0);
  BOOST_TEST(claim(*this).at("id") == 1);
}

BOOST_FIXTURE_TEST_CASE(the_lease_is_the_queues_unless_given_and_the_worker_named_by_default, CliFixture) {
  write_config("[queues.mail]\nlease = \"45s\"\n");
  enqueue("mail", "send");
  enqueue("mail", "send");
  auto first = claim(*this);
  BOOST_TEST(sql_int("SELECT lease_expires_at - started_at FROM tasks WHERE id = 1") == 45'000);
  BOOST_TEST(first.at("lease_owner").get<std::string>().starts_with("external:"));
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE id = 1 AND lease_owner LIKE 'external:%:%'") == 1);
  claim(*this, {"--lease", "5m"});
  BOOST_TEST(sql_int("SELECT lease_expires_at - started_at FROM tasks WHERE id = 2") == 300'000);
}

BOOST_FIXTURE_TEST_CASE(renew_extends_the_lease_and_keeps_the_token, CliFixture) {
  configure_mail(*this);
  enqueue("mail", "send");
  auto claimed = claim(*this, {"--lease", "2s"});
  const auto before = sql_int("SELECT lease_expires_at FROM tasks WHERE id = 1");
  auto r = queue({"renew", "1", "--token", token_of(claimed), "--lease", "10m", "--json"});
  BOOST_TEST(r.exit_code == 0, r.err);
  auto doc = json::parse(r.out);
  BOOST_TEST(doc.at("id") == 1);
  BOOST_TEST(doc.at("lease").at("token") == token_of(claimed));
  const auto after = sql_int("SELECT lease_expires_at FROM tasks WHERE id = 1");
  BOOST_TEST(after - before >= 598'000);
  BOOST_TEST(doc.at("lease").at("expires_at") == json(oos::util::format_iso8601(after)));
  auto text = queue({"renew", "1", "--token", token_of(claimed)});
  BOOST_TEST(text.exit_code == 0, text.err);
  BOOST_TEST(text.out.starts_with("task 1: lease renewed until "));
  BOOST_TEST(sql_int("SELECT count(*) FROM task_attempts") == 0);
}

BOOST_FIXTURE_TEST_CASE(fail_retries_after_the_queues_backoff_then_dead_letters, CliFixture) {
  configure_mail(*this, "[60]");
  enqueue("mail", "send", {"--max-attempts", "2"});
  auto first = claim(*this, {"--worker", "ext-1"});
  const auto before = now_ms();
  auto r = queue({"fail", "1", "--token", token_of(first), "--error", "smtp: connection refused", "--json"});
  BOOST_TEST(r.exit_code == 0, r.err);
  auto doc = json::parse(r.out);
  BOOST_TEST(doc.at("status") == "pending");
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = 1") == "pending");
  BOOST_TEST(sql_text("SELECT last_error FROM tasks WHERE id = 1") == "smtp: connection refused");
  const auto run_at = sql_int("SELECT run_at FROM tasks WHERE id = 1");
  BOOST_TEST(run_at >= before + 60'000);
  BOOST_TEST(doc.at("retry_at") == json(oos::util::format_iso8601(run_at)));
  BOOST_TEST(sql_text("SELECT outcome || ' ' || worker || ' ' || error FROM task_attempts WHERE task_id = 1") ==
             "failed ext-1 smtp: connection refused");
  BOOST_TEST(sql_int("SELECT consecutive_failures FROM breakers WHERE kind = 'queue' AND name = 'mail'") == 1);
  BOOST_TEST(queue({"claim", "mail", "--json"}).out == "null\n");  // not before the backoff

  sql_exec("UPDATE tasks SET run_at = 0 WHERE id = 1");
  auto second = claim(*this);
  BOOST_TEST(second.at("attempts") == 2);
  auto last = queue({"fail", "1", "--token", token_of(second), "--error", "still refused"});
  BOOST_TEST(last.exit_code == 0, last.err);
  BOOST_TEST(last.out == "task 1 dead\n");
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = 1") == "dead");
  BOOST_TEST(sql_int("SELECT count(*) FROM task_attempts WHERE task_id = 1") == 2);
}

BOOST_FIXTURE_TEST_CASE(fail_permanent_dead_letters_at_once, CliFixture) {
  configure_mail(*this);
  enqueue("mail", "send", {"--max-attempts", "5"});
  auto claimed = claim(*this);
  auto r = queue({"fail", "1", "--token", token_of(claimed), "--error", "bad address", "--permanent"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out == "task 1 dead\n");
  BOOST_TEST(sql_text("SELECT status || ' ' || last_error FROM tasks WHERE id = 1") == "dead bad address");
  BOOST_TEST(sql_text("SELECT outcome FROM task_attempts WHERE task_id = 1") == "permanent");
  BOOST_TEST(retry({"list"}).out.find("bad address") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(a_wrong_token_is_exit_69_and_changes_nothing, CliFixture) {
  configure_mail(*this);
  enqueue("mail", "send");
  auto claimed = claim(*this, {"--worker", "ext-1"});
  const auto expires = sql_int("SELECT lease_expires_at FROM tasks WHERE id = 1");
  const std::vector<std::vector<std::string>> reports{
      {"complete", "1", "--token", "not-the-token"},
      {"fail", "1", "--token", "not-the-token", "--error", "x"},
      {"fail", "1", "--token", "not-the-token", "--error", "x", "--permanent"},
      {"renew", "1", "--token", "not-the-token", "--lease", "1h"}};
  for (const auto& args : reports) {
    auto r = queue(args);
    BOOST_TEST(r.exit_code == 69, args[0] << ": " << r.err);
    BOOST_TEST(r.out.empty());
    BOOST_TEST(is_one_error_line(r.err), r.err);
    BOOST_TEST(r.err == "oos-queue: error: task 1: the token is not its current lease token (held by 'ext-1')\n");
  }
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = 1") == "running");
  BOOST_TEST(sql_text("SELECT lease_token FROM tasks WHERE id = 1") == token_of(claimed));
  BOOST_TEST(sql_int("SELECT lease_expires_at FROM tasks WHERE id = 1") == expires);
  BOOST_TEST(sql_int("SELECT count(*) FROM task_attempts") == 0);
  BOOST_TEST(sql_int("SELECT count(*) FROM breakers WHERE consecutive_failures > 0") == 0);
}

BOOST_FIXTURE_TEST_CASE(an_expired_token_cannot_report_and_the_task_is_reclaimed_normally, CliFixture) {
  configure_mail(*this);
  enqueue("mail", "send");
  auto stale = claim(*this, {"--lease", "1s", "--worker", "ext-slow"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"complete", "1", "--token", token_of(stale), "--result", "{}"},
                                             {"fail", "1", "--token", token_of(stale), "--error", "late"},
                                             {"renew", "1", "--token", token_of(stale)}}) {
    auto r = queue(args);
    BOOST_TEST(r.exit_code == 69, args[0] << ": " << r.err);
    BOOST_TEST(is_one_error_line(r.err), r.err);
    BOOST_TEST(r.err.starts_with("oos-queue: error: task 1: its lease expired at "), r.err);
  }
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = 1") == "running");
  BOOST_TEST(sql_int("SELECT count(*) FROM task_attempts") == 0);

  // The next claim takes the lost run back (a failed attempt, outcome lost) and, the backoff being 0, the task.
  auto again = claim(*this, {"--worker", "ext-2"});
  BOOST_TEST(again.at("id") == 1);
  BOOST_TEST(again.at("attempts") == 2);
  BOOST_TEST(sql_text("SELECT outcome || ' ' || worker FROM task_attempts WHERE task_id = 1") == "lost ext-slow");
  auto late = queue({"complete", "1", "--token", token_of(stale)});
  BOOST_TEST(late.exit_code == 69);
  BOOST_TEST(late.err == "oos-queue: error: task 1: the token is not its current lease token (held by 'ext-2')\n");
  BOOST_TEST(queue({"complete", "1", "--token", token_of(again)}).exit_code == 0);
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = 1") == "succeeded");
}

BOOST_FIXTURE_TEST_CASE(a_finished_or_unknown_task_cannot_be_reported, CliFixture) {
  configure_mail(*this);
  enqueue("mail", "send");
  auto claimed = claim(*this);
  BOOST_TEST_REQUIRE(queue({"complete", "1", "--token", token_of(claimed)}).exit_code == 0);
  auto twice = queue({"complete", "1", "--token", token_of(claimed)});
  BOOST_TEST(twice.exit_code == 69);
  BOOST_TEST(twice.err == "oos-queue: error: task 1 is succeeded, not running: the token holds no lease of it\n");
  auto unknown = queue({"fail", "99", "--token", token_of(claimed), "--error", "x"});
  BOOST_TEST(unknown.exit_code == 66);
  BOOST_TEST(unknown.err == "oos-queue: error: task 99 not found\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM task_attempts") == 1);
}

BOOST_FIXTURE_TEST_CASE(the_result_is_json_text_or_a_file, CliFixture) {
  configure_mail(*this);
  enqueue("mail", "send");
  auto claimed = claim(*this);
  auto bad = queue({"complete", "1", "--token", token_of(claimed), "--result", "{not json"});
  BOOST_TEST(bad.exit_code == 65);
  BOOST_TEST(is_one_error_line(bad.err), bad.err);
  BOOST_TEST(bad.err.starts_with("oos-queue: error: --result is not valid JSON"), bad.err);
  auto missing = queue({"complete", "1", "--token", token_of(claimed), "--result", "@" + (dir() / "none").string()});
  BOOST_TEST(missing.exit_code == 66);
  auto big = dir() / "big.json";
  std::ofstream(big) << '"' << std::string(64 * 1024, 'x') << '"';
  auto too_big = queue({"complete", "1", "--token", token_of(claimed), "--result", "@" + big.string()});
  BOOST_TEST(too_big.exit_code == 65);
  BOOST_TEST(too_big.err ==
                 "oos-queue: error: --result is larger than 65536 bytes: keep the result small (a summary, "
                 "or where the full output was stored)\n",
             too_big.err);
  auto too_big_text =
      queue({"complete", "1", "--token", token_of(claimed), "--result", std::string(64 * 1024 + 1, '1')});
  BOOST_TEST(too_big_text.exit_code == 65);
  BOOST_TEST(too_big_text.err == too_big.err);
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = 1") == "running");

  auto file = dir() / "result.json";
  std::ofstream(file) << R"({"pages": [1, 2]})" << '\n';
  auto r = queue({"complete", "1", "--token", token_of(claimed), "--result", "@" + file.string(), "--json"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(json::parse(r.out) == json::parse(R"({"id": 1, "status": "succeeded", "retry_at": null})"));
  BOOST_TEST(sql_text("SELECT result FROM tasks WHERE id = 1") == "{\"pages\": [1, 2]}\n");
}

BOOST_FIXTURE_TEST_CASE(bad_options_are_usage_errors, CliFixture) {
  configure_mail(*this);
  enqueue("mail", "send");
  for (const auto& args : std::vector<std::vector<std::string>>{{"claim", "mail", "--lease", "0s"},
                                                                {"claim", "mail", "--lease", "30"},
                                                                {"claim", "mail", "--lease", "2d"},
                                                                {"claim", "mail", "--worker", "a b"},
                                                                {"claim", "no/such"},
                                                                {"complete", "1"},
                                                                {"fail", "1", "--token", "t"},
                                                                {"fail", "1", "--token", "t", "--error", ""},
                                                                {"renew", "x", "--token", "t"}}) {
    auto r = queue(args);
    BOOST_TEST(r.exit_code == 64, args[0] << " " << args[1] << ": " << r.err);
    BOOST_TEST(is_one_error_line(r.err), r.err);
  }
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = 1") == "pending");
}

BOOST_FIXTURE_TEST_CASE(of_many_concurrent_claimers_exactly_one_gets_the_task, CliFixture) {
  configure_mail(*this);
  constexpr int k_rounds = 10;
  constexpr int k_claimers = 6;
  for (int round = 1; round <= k_rounds; ++round) {
    enqueue("mail", "send");
    std::vector<std::unique_ptr<oos::test::BackgroundProcess>> claimers;
    for (int i = 0; i < k_claimers; ++i)
      claimers.push_back(start("OOS_QUEUE_BIN", {"claim", "mail", "--json", "--worker", "c" + std::to_string(i)}));
    int winners = 0;
    for (auto& c : claimers) {
      BOOST_TEST_REQUIRE(c->wait(oos::test::scaled(std::chrono::seconds(30))) == 0, c->err());
      auto doc = json::parse(c->out());
      if (doc.is_null()) continue;
      ++winners;
      BOOST_TEST(doc.at("id") == round);
    }
    BOOST_TEST(winners == 1, "round " << round);
  }
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'running' AND attempts = 1") == k_rounds);
}

BOOST_AUTO_TEST_SUITE_END()
