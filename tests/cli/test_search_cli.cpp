// oos-search as a process against FakeSearchServer on loopback, which speaks each provider's wire format:
// success, empty results, 429 with and without Retry-After, 403 PERMISSION_DENIED, 403 dailyLimitExceeded,
// 400, 500, a reply slower than the timeout and malformed JSON; fall-through along the chain; the cache
// (fresh: no request; expired: served as stale when every provider fails); the shared quota under 20
// concurrent processes; and the keys never leaving the request. Waits (backoff, Retry-After, pacing) are tested
// in process on a ManualClock (unit.search_client); here only what needs the wire and real processes.
#include <boost/test/unit_test.hpp>

#include <SQLiteCpp/Database.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/cli_support.hpp"
#include "support/fake_search_server.hpp"

using nlohmann::json;
using oos::test::CliFixture;
using oos::test::FakeSearchServer;
using oos::test::Reply;

namespace {

// Keys that only these tests use; they must reach the server and appear nowhere else.
const std::string k_google_key = "AIzaTEST-google-key-0123456789abcdef";
const std::string k_engine_id = "cx-test-engine-4242";
const std::string k_brave_key = "BSA-test-brave-token-9876543210";

struct SearchFixture : CliFixture {
  FakeSearchServer server;

  explicit SearchFixture(const std::string& providers = R"(["google", "searxng"])") { configure(providers); }

  void configure(const std::string& providers, const std::string& google_extra = "",
                 const std::string& google_timeout = "1s") {
    write_config("[search]\nproviders = " + providers + "\nmax_wait = \"10s\"\n\n[search.google]\nendpoint = \"" +
                 server.google_endpoint() + "\"\ntimeout = \"" + google_timeout + "\"\n" + google_extra +
                 "\n[search.searxng]\nendpoint = \"" + server.searxng_endpoint() +
                 "\"\ntimeout = \"1s\"\n\n[search.brave]\nendpoint = \"" + server.brave_endpoint() +
                 "\"\ntimeout = \"1s\"\n");
  }

  static std::vector<std::string> keys() {
    return {"GOOGLE_SEARCH_API_KEY=" + k_google_key, "GOOGLE_SEARCH_ENGINE_ID=" + k_engine_id,
            "BRAVE_SEARCH_API_KEY=" + k_brave_key};
  }

  oos::util::RunResult find(std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    return search(args, keys());
  }

  // Everything the database holds, as text.
  std::string database_text() {
    SQLite::Database db(db_path().string(), SQLite::OPEN_READONLY);
    std::string all;
    SQLite::Statement tables(db, "SELECT name FROM sqlite_master WHERE type = 'table'");
    while (tables.executeStep()) {
      SQLite::Statement rows(db, "SELECT * FROM \"" + tables.getColumn(0).getString() + "\"");
      while (rows.executeStep())
        for (int i = 0; i < rows.getColumnCount(); ++i) all += rows.getColumn(i).getString() + "\n";
    }
    return all;
  }

  void expect_no_key_in(const std::string& text, const std::string& what) {
    for (const auto& key : {k_google_key, k_engine_id, k_brave_key})
      BOOST_TEST(text.find(key) == std::string::npos, what << " holds a key: " << text);
  }
};

struct GoogleOnly : SearchFixture {
  GoogleOnly() : SearchFixture(R"(["google"])") {}
};

}  // namespace

BOOST_AUTO_TEST_SUITE(search_cli)

BOOST_FIXTURE_TEST_CASE(google_results_are_parsed_and_the_key_stays_in_the_request, SearchFixture) {
  auto r = find({"sqlite", "wal", "mode", "--num", "3"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out << r.err);
  auto doc = json::parse(r.out);
  BOOST_TEST(doc["query"] == "sqlite wal mode");
  BOOST_TEST(doc["provider"] == "google");
  BOOST_TEST(doc["cached"] == false);
  BOOST_TEST(doc["stale"] == false);
  BOOST_TEST_REQUIRE(doc["results"].size() == 3u);
  BOOST_TEST(doc["results"][0]["title"] == "Google result 1");
  BOOST_TEST(doc["results"][0]["link"] == "https://example.org/google/1");
  BOOST_TEST(doc["results"][0]["snippet"] == "Snippet 1 from Google.");
  BOOST_TEST(doc["total_results"] == 1230);
  BOOST_TEST(doc["next_start"] == 4);

  auto requests = server.received();
  BOOST_TEST_REQUIRE(requests.size() == 1u);
  const auto& target = requests[0].target;
  BOOST_TEST(target.find("key=" + k_google_key) != std::string::npos, target);
  BOOST_TEST(target.find("q=sqlite%20wal%20mode") != std::string::npos, target);
  BOOST_TEST(target.find("num=3") != std::string::npos, target);

  auto text = search({"sqlite", "wal", "mode", "--num", "3", "--no-cache", "--log-level", "debug"}, keys());
  BOOST_TEST_REQUIRE(text.exit_code == 0, text.err);
  BOOST_TEST(text.out.find("3 results from google (about 1230 in all)") == 0, text.out);
  BOOST_TEST(text.out.find("1. Google result 1\n   https://example.org/google/1\n   Snippet 1 from Google.") !=
                 std::string::npos,
             text.out);
  BOOST_TEST(text.err.find("key=REDACTED") != std::string::npos, text.err);  // the debug line of the request
  expect_no_key_in(r.out + r.err + text.out + text.err, "output and logs");
  expect_no_key_in(database_text(), "the database");
}

BOOST_FIXTURE_TEST_CASE(empty_results_are_zero_results, SearchFixture) {
  server.script("google", {Reply::empty});
  auto r = find({"nothing"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  auto doc = json::parse(r.out);
  BOOST_TEST(doc["provider"] == "google");
  BOOST_TEST(doc["results"].empty());
  BOOST_TEST(doc["total_results"] == 0);
}

BOOST_FIXTURE_TEST_CASE(a_429_without_retry_after_falls_through_to_the_next_provider, SearchFixture) {
  server.script("google", {Reply::rate_limited});
  auto r = find({"q", "--num", "2"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  auto doc = json::parse(r.out);
  BOOST_TEST(doc["provider"] == "searxng");
  BOOST_TEST_REQUIRE(doc["results"].size() == 2u);
  BOOST_TEST(doc["results"][1]["link"] == "https://example.org/searxng/2");
  BOOST_TEST(doc["skipped"][0].get<std::string>().find("google: HTTP 429 RESOURCE_EXHAUSTED") == 0, doc.dump());
  BOOST_TEST(server.requests("google") == 1);
  BOOST_TEST(sql_int("SELECT count(*) FROM breakers WHERE kind = 'search' AND consecutive_failures > 0") == 0);
}

// The Retry-After header read over the wire; waiting for one within --max-wait is unit.search_client's.
BOOST_FIXTURE_TEST_CASE(a_429_with_a_retry_after_beyond_max_wait_is_75, GoogleOnly) {
  server.script("google", {Reply::rate_limited_retry_after});
  server.retry_after_seconds = 60;
  auto limited = find({"other", "--max-wait", "2s"});
  BOOST_TEST(limited.exit_code == 75, limited.out << limited.err);
  BOOST_TEST(limited.err.find("oos-search: error: no search provider answered: google: HTTP 429") != std::string::npos,
             limited.err);
  BOOST_TEST(limited.err.find("Retry-After 1m is beyond --max-wait") != std::string::npos, limited.err);
}

BOOST_FIXTURE_TEST_CASE(permission_denied_skips_google_without_a_retry, SearchFixture) {
  server.script("google", {Reply::permission_denied});
  auto r = find({"q"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  auto doc = json::parse(r.out);
  BOOST_TEST(doc["provider"] == "searxng");
  BOOST_TEST(doc["skipped"][0].get<std::string>().find("does not have the access to Custom Search JSON API") !=
                 std::string::npos,
             doc.dump());
  BOOST_TEST(server.requests("google") == 1);
}

BOOST_FIXTURE_TEST_CASE(daily_limit_exceeded_spends_the_day_for_every_process, SearchFixture) {
  server.script("google", {Reply::daily_limit});
  auto r = find({"q"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(json::parse(r.out)["provider"] == "searxng");
  BOOST_TEST(server.requests("google") == 1);
  // The next search does not ask google again today.
  r = find({"another"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(server.requests("google") == 1);
  auto quota = search({"--json", "quota"}, keys());
  BOOST_TEST_REQUIRE(quota.exit_code == 0, quota.err);
  auto google = json::parse(quota.out)["providers"][0];
  BOOST_TEST(google["provider"] == "google");
  BOOST_TEST(google["spent"] == true);
  BOOST_TEST(google["remaining"] == 0);
  auto health_check = health({});
  BOOST_TEST(
      health_check.out.find("WARNING search google: daily quota spent (1 of 8000 used) until ") != std::string::npos,
      health_check.out);
  BOOST_TEST(health_check.out.find("OK search searxng: 2 requests today") != std::string::npos, health_check.out);
}

BOOST_FIXTURE_TEST_CASE(an_unlimited_provider_that_says_its_day_is_spent_is_not_asked_again, SearchFixture) {
  configure(R"(["google", "searxng"])", "daily_quota = 0\n");
  server.script("google", {Reply::daily_limit});
  BOOST_TEST_REQUIRE(find({"q"}).exit_code == 0);
  auto r = find({"another"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(json::parse(r.out)["provider"] == "searxng");
  BOOST_TEST(server.requests("google") == 1);
  auto quota = search({"--json", "quota"}, keys());
  BOOST_TEST_REQUIRE(quota.exit_code == 0, quota.err);
  auto google = json::parse(quota.out)["providers"][0];
  BOOST_TEST(google["spent"] == true);
  BOOST_TEST(google["remaining"] == 0);
}

BOOST_FIXTURE_TEST_CASE(a_bad_request_is_exit_65, GoogleOnly) {
  server.script("google", {Reply::bad_request});
  auto r = find({"q"});
  BOOST_TEST(r.exit_code == 65, r.out << r.err);
  BOOST_TEST(r.err.find("Request contains an invalid argument") != std::string::npos, r.err);
  BOOST_TEST(server.requests("google") == 1);
}

// Retries 1 s and 2 s apart are unit.search_client's (in process, on a ManualClock); here a 500 over the wire.
BOOST_FIXTURE_TEST_CASE(a_server_error_falls_through_and_counts_in_the_breaker, SearchFixture) {
  server.script("google", {Reply::server_error, Reply::ok});
  auto r = find({"q", "--max-wait", "0s"});  // no time to wait for a retry
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  auto doc = json::parse(r.out);
  BOOST_TEST(doc["provider"] == "searxng");
  BOOST_TEST(doc["skipped"][0].get<std::string>().find("google: HTTP 500 INTERNAL") == 0, doc.dump());
  BOOST_TEST(server.requests("google") == 1);
  BOOST_TEST(sql_int("SELECT consecutive_failures FROM breakers WHERE kind = 'search' AND name = 'google'") == 1);
}

BOOST_FIXTURE_TEST_CASE(a_reply_slower_than_the_timeout_is_transient, SearchFixture) {
  configure(R"(["google", "searxng"])", "", "300ms");
  server.script("google", {Reply::slow});
  server.slow_ms = 3000;
  auto r = find({"q", "--max-wait", "0s"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  auto doc = json::parse(r.out);
  BOOST_TEST(doc["provider"] == "searxng");
  BOOST_TEST(doc["skipped"][0].get<std::string>().find("google: timed out") == 0, doc.dump());
}

BOOST_FIXTURE_TEST_CASE(malformed_json_is_transient, SearchFixture) {
  server.script("google", {Reply::malformed});
  server.script("searxng", {Reply::malformed});
  auto r = find({"q", "--max-wait", "0s"});
  BOOST_TEST(r.exit_code == 69, r.out << r.err);
  BOOST_TEST(r.err.find("google: malformed response") != std::string::npos, r.err);
  BOOST_TEST(r.err.find("searxng: malformed response") != std::string::npos, r.err);
}

BOOST_FIXTURE_TEST_CASE(brave_sends_its_token_in_a_header_and_reads_web_results, SearchFixture) {
  configure(R"(["brave"])");
  auto r = find({"q", "--num", "2"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  auto doc = json::parse(r.out);
  BOOST_TEST(doc["provider"] == "brave");
  BOOST_TEST_REQUIRE(doc["results"].size() == 2u);
  // Plain text, as Brave's highlights and entities are not.
  BOOST_TEST(doc["results"][0]["snippet"] == "Description 1.");
  BOOST_TEST(doc["results"][1]["title"] == "Brave result 2 & more");
  BOOST_TEST(doc["results"][1]["snippet"] == "Description 2.");
  auto requests = server.received();
  BOOST_TEST_REQUIRE(requests.size() == 1u);
  BOOST_TEST(requests[0].headers["x-subscription-token"] == k_brave_key);
  BOOST_TEST(requests[0].target.find(k_brave_key) == std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(a_cached_query_makes_no_request, SearchFixture) {
  BOOST_TEST_REQUIRE(find({"Cached  Query"}).exit_code == 0);
  auto r = find({"cached", "query"});  // the same after normalisation
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  auto doc = json::parse(r.out);
  BOOST_TEST(doc["cached"] == true);
  BOOST_TEST(doc["provider"] == "google");
  BOOST_TEST(server.requests("google") == 1);
  BOOST_TEST(find({"cached", "query", "--no-cache"}).exit_code == 0);
  BOOST_TEST(server.requests("google") == 2);
}

BOOST_FIXTURE_TEST_CASE(an_expired_entry_is_served_as_stale_when_every_provider_fails, SearchFixture) {
  BOOST_TEST_REQUIRE(find({"old", "news"}).exit_code == 0);
  sql_exec("UPDATE search_cache SET expires_at = expires_at - 2 * 86400000, fetched_at = fetched_at - 2 * 86400000");
  server.script("google", {Reply::server_error});
  server.script("searxng", {Reply::server_error});
  auto r = find({"old", "news", "--max-wait", "0s"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  auto doc = json::parse(r.out);
  BOOST_TEST(doc["stale"] == true);
  BOOST_TEST(doc["cached"] == true);
  BOOST_TEST(doc["results"].size() == 3u);
  BOOST_TEST(server.requests("google") == 2);
  auto text = search({"old", "news", "--max-wait", "0s"}, keys());
  BOOST_TEST(text.out.find("STALE: cached 2d00h ago, every provider failed") != std::string::npos, text.out);
  // Without an entry, the same failure is 69.
  BOOST_TEST(find({"never", "seen", "--max-wait", "0s"}).exit_code == 69);
}

BOOST_FIXTURE_TEST_CASE(twenty_processes_against_a_quota_of_ten_send_ten_requests, GoogleOnly) {
  configure(R"(["google"])", "daily_quota = 10\nburst = 10\n");
  std::vector<std::unique_ptr<oos::test::BackgroundProcess>> processes;
  create_database();
  for (int i = 0; i < 20; ++i)
    processes.push_back(start("OOS_SEARCH_BIN", {"--json", "query", std::to_string(i), "--max-wait", "0s"}, keys()));
  int succeeded = 0, unavailable = 0;
  for (auto& p : processes) {
    int code = p->wait(oos::test::scaled(std::chrono::seconds(30)));
    if (code == 0) ++succeeded;
    if (code == 69) ++unavailable;
  }
  BOOST_TEST(succeeded == 10);
  BOOST_TEST(unavailable == 10);
  BOOST_TEST(server.requests("google") == 10);
  BOOST_TEST(sql_int("SELECT used FROM rate_limits WHERE provider = 'google'") == 10);
}

BOOST_FIXTURE_TEST_CASE(pacing_beyond_max_wait_is_exit_75, GoogleOnly) {
  configure(R"(["google"])", "daily_quota = 8000\nburst = 1\n");
  BOOST_TEST_REQUIRE(find({"first"}).exit_code == 0);
  auto r = find({"second", "--max-wait", "1s"});  // the next token comes about 11 s later
  BOOST_TEST(r.exit_code == 75, r.out << r.err);
  BOOST_TEST(r.err.find("paced to 8000 requests a day") != std::string::npos, r.err);
  BOOST_TEST(r.err.find("try again later, or allow a longer --max-wait") != std::string::npos, r.err);
  BOOST_TEST(server.requests("google") == 1);
}

BOOST_FIXTURE_TEST_CASE(a_missing_key_for_the_only_provider_is_78, GoogleOnly) {
  auto r = search({"q"}, {"GOOGLE_SEARCH_ENGINE_ID=" + k_engine_id});
  BOOST_TEST(r.exit_code == 78, r.out << r.err);
  BOOST_TEST(r.err.find("GOOGLE_SEARCH_API_KEY absent; give the providers' keys as credentials") != std::string::npos,
             r.err);
  BOOST_TEST(server.received().empty());
}

BOOST_FIXTURE_TEST_CASE(quota_shows_each_provider, SearchFixture) {
  BOOST_TEST_REQUIRE(find({"q"}).exit_code == 0);
  auto r = search({"quota"}, {"GOOGLE_SEARCH_API_KEY=" + k_google_key});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(r.out.find("google") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("1/8000") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("absent: GOOGLE_SEARCH_ENGINE_ID") != std::string::npos, r.out);
  expect_no_key_in(r.out + r.err, "quota output");
}

BOOST_FIXTURE_TEST_CASE(a_search_task_runs_in_the_worker_and_keeps_the_answer, SearchFixture) {
  auto id = enqueue("default", "search", {"--data", R"({"query":"worker search","num":2})"});
  auto r = worker({"--drain"}, keys());
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = " + std::to_string(id)) == "succeeded");
  auto result = json::parse(sql_text("SELECT result FROM tasks WHERE id = " + std::to_string(id)));
  BOOST_TEST(result["provider"] == "google");
  BOOST_TEST(result["query"] == "worker search");
  BOOST_TEST(result["results"].size() == 3u);  // what the server sent for num=2 (the fake ignores num)
  BOOST_TEST(server.received()[0].target.find("num=2") != std::string::npos);
  expect_no_key_in(r.out + r.err, "the worker's output");
  expect_no_key_in(database_text(), "the database");
}

BOOST_FIXTURE_TEST_CASE(a_spent_quota_is_a_temporary_failure_and_a_refusal_dead_letters, GoogleOnly) {
  server.script("google", {Reply::daily_limit});
  auto quota_task = enqueue("default", "search", {"--data", R"({"query":"a"})"});
  auto r = worker({"--max-tasks", "1"}, keys());
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  auto task = std::to_string(quota_task);
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = " + task) == "pending");
  BOOST_TEST(sql_text("SELECT outcome FROM task_attempts WHERE task_id = " + task) == "temporary");

  sql_exec("DELETE FROM rate_limits");
  sql_exec("DELETE FROM tasks");
  server.script("google", {Reply::permission_denied});
  auto refused = std::to_string(enqueue("default", "search", {"--data", R"({"query":"b"})"}));
  r = worker({"--max-tasks", "1"}, keys());
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = " + refused) == "dead");
  BOOST_TEST(sql_text("SELECT last_error FROM tasks WHERE id = " + refused).find("PERMISSION_DENIED") !=
             std::string::npos);

  auto bad = std::to_string(enqueue("default", "search", {"--data", R"({"q":"wrong field"})"}));
  r = worker({"--max-tasks", "1"}, keys());
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = " + bad) == "dead");
}

BOOST_FIXTURE_TEST_CASE(quota_is_a_verb_only_alone, GoogleOnly) {
  auto r = find({"how", "to", "raise", "quota"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(json::parse(r.out)["query"] == "how to raise quota");
  BOOST_TEST(server.requests("google") == 1);
  BOOST_TEST(search({"q", "--reset-breaker", "google"}, keys()).exit_code == 64);
}

BOOST_FIXTURE_TEST_CASE(a_probe_gets_one_request_and_a_stuck_probe_is_taken_over, GoogleOnly) {
  create_database();
  auto long_ago = std::to_string(oos::test::now_ms() - 3'600'000);
  auto insert = [&](const std::string& state) {
    sql_exec(
        "INSERT OR REPLACE INTO breakers (kind, name, state, consecutive_failures, opened_at, cooldown_ms, "
        "updated_at) VALUES ('search', 'google', '" +
        state + "', 10, " + long_ago + ", 60000, " + long_ago + ")");
  };
  insert("open");  // cooled down: the next search is its probe
  server.script("google", {Reply::server_error});
  auto r = find({"probe"});
  BOOST_TEST(r.exit_code == 69, r.out << r.err);
  BOOST_TEST(server.requests("google") == 1);  // no retry for a probe
  BOOST_TEST(sql_text("SELECT state FROM breakers WHERE kind = 'search'") == "open");
  BOOST_TEST(sql_int("SELECT cooldown_ms FROM breakers WHERE kind = 'search'") == 120000);

  insert("half_open");  // a probe whose process died an hour ago
  server.script("google", {Reply::ok});
  r = find({"taken", "over"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(r.err.find("its probe started 1h00m ago and never ended; probing again") != std::string::npos, r.err);
  BOOST_TEST(sql_text("SELECT state FROM breakers WHERE kind = 'search'") == "closed");
}

BOOST_FIXTURE_TEST_CASE(a_breaker_is_closed_by_hand_with_quota_reset_breaker, GoogleOnly) {
  create_database();
  auto now = std::to_string(oos::test::now_ms());
  sql_exec(
      "INSERT INTO breakers (kind, name, state, consecutive_failures, opened_at, cooldown_ms, updated_at) "
      "VALUES ('search', 'google', 'open', 10, " +
      now + ", 60000, " + now + ")");
  BOOST_TEST(find({"q"}).exit_code == 69);
  BOOST_TEST(server.requests("google") == 0);
  auto r = search({"quota", "--reset-breaker", "google"}, keys());
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  BOOST_TEST(sql_text("SELECT state FROM breakers WHERE kind = 'search'") == "closed");
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'breaker.reset' AND object = 'search/google'") == 1);
  BOOST_TEST(find({"q"}).exit_code == 0);
  BOOST_TEST(search({"quota", "--reset-breaker", "bing"}, keys()).exit_code == 66);
}

// A key ring over the wire (docs/reference.md section 17): BRAVE_SEARCH_API_KEYS alone (no BRAVE_SEARCH_API_KEY),
// its first key answered 429, its second serves; each request carried its own token in X-Subscription-Token;
// searxng is not asked; the keys are in neither the output, the logs nor the database, which knows them by
// fingerprint; `oos-health validate` counts the ring's keys.
BOOST_FIXTURE_TEST_CASE(a_ring_of_brave_keys_moves_to_the_next_key_after_a_429, SearchFixture) {
  configure(R"(["brave", "searxng"])");
  server.script("brave", {Reply::rate_limited, Reply::ok});
  const std::string a = "test-ring-brave-key-a", b = "test-ring-brave-key-b";
  const std::vector<std::string> ring{"BRAVE_SEARCH_API_KEYS=" + a + "," + b};
  auto r = search({"--json", "q"}, ring);
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out << r.err);
  auto doc = json::parse(r.out);
  BOOST_TEST(doc["provider"] == "brave");
  BOOST_TEST(doc["skipped"].empty(), doc.dump());
  auto requests = server.received();
  BOOST_TEST_REQUIRE(requests.size() == 2u);
  BOOST_TEST(requests[0].headers["x-subscription-token"] == a);
  BOOST_TEST(requests[1].headers["x-subscription-token"] == b);
  BOOST_TEST(server.requests("searxng") == 0);
  BOOST_TEST(r.err.find("of ring BRAVE_SEARCH_API_KEYS: HTTP 429: RATE_LIMITED") != std::string::npos, r.err);
  BOOST_TEST(sql_int("SELECT count(*) FROM key_ring_keys WHERE ring = 'BRAVE_SEARCH_API_KEYS'") == 2);
  BOOST_TEST(sql_int("SELECT count(*) FROM key_ring_keys WHERE ring = 'BRAVE_SEARCH_API_KEYS' AND "
                     "cooldown_until > 0") == 1);

  auto empty_root = dir() / "empty-root";
  std::filesystem::create_directories(empty_root);
  auto validate = health({"validate", "--root", empty_root.string()}, ring);
  BOOST_TEST(validate.out.find("OK key ring BRAVE_SEARCH_API_KEYS: 2 keys") != std::string::npos, validate.out);
  BOOST_TEST(validate.out.find("OK secret BRAVE_SEARCH_API_KEYS: present") != std::string::npos, validate.out);
  BOOST_TEST(validate.out.find("secret BRAVE_SEARCH_API_KEY:") == std::string::npos, validate.out);
  for (const auto& key : {a, b}) {
    BOOST_TEST((r.out + r.err + validate.out + validate.err).find(key) == std::string::npos, key);
    BOOST_TEST(database_text().find(key) == std::string::npos, key);
  }
}

BOOST_AUTO_TEST_SUITE_END()
