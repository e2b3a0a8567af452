// oos-search and the worker's built-in `search` type on a shared PostgreSQL (docs/reference.md sections 17 and 19):
// simulated hosts (two state directories, one schema of the test cluster) against FakeSearchServer, which serves the
// providers' captured replies. The quota is spent exactly across hosts, and the cache, the ledger and the breakers are
// the server's: no host writes its state directory's SQLite file.
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pg_support.hpp"
#include "support/fake_search_server.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace oos::test {
namespace {

const std::string k_google_key = "AIzaTEST-google-key-0123456789abcdef";
const std::string k_engine_id = "cx-test-engine-4242";

const std::vector<std::string> k_keys{"GOOGLE_SEARCH_API_KEY=" + k_google_key,
                                      "GOOGLE_SEARCH_ENGINE_ID=" + k_engine_id};

// Two hosts' oos-search and oos-worker on one schema, google alone (FakeSearchServer's), at `quota` a day.
struct PgSearch : PgHosts {
  FakeSearchServer server;

  PgSearch() { configure(8000, 10); }

  void configure(int quota, int burst) {
    write_config(
        "[worker]\npoll_interval = \"100ms\"\n\n[search]\nproviders = [\"google\"]\nmax_wait = \"10s\"\n\n"
        "[search.google]\nendpoint = \"" +
        server.google_endpoint() + "\"\ntimeout = \"2s\"\ndaily_quota = " + std::to_string(quota) +
        "\nburst = " + std::to_string(burst) + "\n");
  }

  // The tool `binary_env` with ARGS on the host whose state directory is `host`, with the providers' keys.
  std::unique_ptr<BackgroundProcess> start_at(const char* binary_env, const fs::path& host,
                                              const std::vector<std::string>& args) {
    return std::make_unique<BackgroundProcess>(tool_argv(binary_env, host, args), test_environment(k_keys));
  }
  util::RunResult run_at(const char* binary_env, const fs::path& host, const std::vector<std::string>& args) {
    auto p = start_at(binary_env, host, args);
    int code = p->wait(scaled(std::chrono::seconds(30)));
    return {code, p->out(), p->err()};
  }
  // oos-search --json ARGS there.
  util::RunResult search_at(const fs::path& host, std::vector<std::string> args) {
    args.insert(args.begin(), "--json");
    return run_at("OOS_SEARCH_BIN", host, args);
  }

  // Neither host opened its state directory's SQLite file.
  void expect_no_sqlite() {
    BOOST_TEST(!fs::exists(db_path()));
    BOOST_TEST(!fs::exists(host_b / "oos.db"));
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_search)

// Issue 16: the shared quota ledger, exactly N requests for a quota of N across hosts. Ten processes on each host
// search at once against a quota of ten: ten requests reach the provider, ten searches are refused as over quota
// (69, section 8.8), and the ledger counts ten.
BOOST_FIXTURE_TEST_CASE(two_hosts_racing_for_a_quota_of_ten_send_exactly_ten_requests, PgSearch) {
  configure(10, 10);
  std::vector<std::unique_ptr<BackgroundProcess>> processes;
  for (int i = 0; i < 20; ++i)
    processes.push_back(start_at("OOS_SEARCH_BIN", i % 2 == 0 ? state_dir() : host_b,
                                 {"--json", "query", std::to_string(i), "--max-wait", "0s"}));
  int succeeded = 0;
  int over_quota = 0;
  for (auto& p : processes) {
    int code = p->wait(scaled(std::chrono::seconds(30)));
    if (code == 0) ++succeeded;
    if (code == 69 && p->err().find("daily quota of 10 spent") != std::string::npos) ++over_quota;
    if (code != 0 && code != 69) BOOST_TEST(code == 0, p->err());
  }
  BOOST_TEST(succeeded == 10);
  BOOST_TEST(over_quota == 10);
  BOOST_TEST(server.requests("google") == 10);
  BOOST_TEST(pg_int("SELECT used FROM rate_limits WHERE provider = 'google'") == 10);
  expect_no_sqlite();
}

BOOST_FIXTURE_TEST_CASE(a_page_one_host_fetched_is_served_to_the_other_from_the_shared_cache, PgSearch) {
  auto first = search_at(state_dir(), {"SQLite", "WAL"});
  BOOST_TEST_REQUIRE(first.exit_code == 0, first.err);
  BOOST_TEST(json::parse(first.out)["cached"] == false);
  auto second = search_at(host_b, {"sqlite", " wal"});
  BOOST_TEST_REQUIRE(second.exit_code == 0, second.err);
  BOOST_TEST(json::parse(second.out)["cached"] == true);
  BOOST_TEST(json::parse(second.out)["provider"] == "google");
  BOOST_TEST(server.requests("google") == 1);
  auto quota = search_at(host_b, {"quota"});
  BOOST_TEST_REQUIRE(quota.exit_code == 0, quota.err);
  auto google = json::parse(quota.out)["providers"][0];
  BOOST_TEST(google["used"] == 1, quota.out);
  BOOST_TEST(pg_int("SELECT count(*) FROM search_cache") == 1);
  for (const auto& key : {k_google_key, k_engine_id}) {
    BOOST_TEST(pg_int("SELECT count(*) FROM search_cache WHERE page LIKE '%" + key + "%'") == 0);
    BOOST_TEST((first.err + second.err + quota.out).find(key) == std::string::npos);
  }
  expect_no_sqlite();
}

// A query that is not UTF-8 (a Latin-1 word from a script), which a PostgreSQL text column refuses, is searched and
// printed as on SQLite, only not cached (unit.pg_ledger checks a NUL, which libpq would cut a key at, the same way).
BOOST_FIXTURE_TEST_CASE(a_query_postgresql_cannot_store_is_answered_and_not_cached, PgSearch) {
  for (int round = 0; round < 2; ++round) {
    auto r = run_at("OOS_SEARCH_BIN", state_dir(), {"caf\xe9", "au", "lait"});
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
    BOOST_TEST(r.out.find("3 results from google") != std::string::npos, r.out);
  }
  BOOST_TEST(server.requests("google") == 2);
  BOOST_TEST(pg_int("SELECT count(*) FROM search_cache") == 0);
  BOOST_TEST(pg_int("SELECT used FROM rate_limits WHERE provider = 'google'") == 2);
}

// A provider's day spent on one host is spent for the other (the ledger's `exhausted`; oos-health there says so), and
// a breaker opened by one host's failures is closed by hand from the other.
BOOST_FIXTURE_TEST_CASE(a_spent_day_and_a_breaker_are_shared_across_hosts, PgSearch) {
  server.script("google", {Reply::daily_limit});
  auto spent = search_at(state_dir(), {"first"});
  BOOST_TEST(spent.exit_code == 69, spent.err);
  server.script("google", {Reply::ok});
  auto skipped = search_at(host_b, {"second"});
  BOOST_TEST(skipped.exit_code == 69, skipped.err);
  BOOST_TEST(server.requests("google") == 1);  // host b did not ask
  BOOST_TEST(pg_text("SELECT exhausted::text FROM rate_limits WHERE provider = 'google'") == "true");
  auto checked = run_at("OOS_HEALTH_BIN", host_b, {});
  BOOST_TEST(checked.exit_code == 2, checked.out << checked.err);  // CRITICAL: the only provider is down
  BOOST_TEST(checked.out.find("search google: daily quota spent (1 of 8000 used) until ") != std::string::npos,
             checked.out << checked.err);

  auto c = connect();
  c.exec_params("UPDATE rate_limits SET exhausted = false");
  c.exec_params(
      "INSERT INTO breakers (kind, name, state, consecutive_failures, opened_at, cooldown_ms, updated_at) "
      "VALUES ('search', 'google', 'open', 10, $1, 60000, $1)",
      {std::to_string(now_ms())});
  BOOST_TEST(search_at(host_b, {"third"}).exit_code == 69);
  BOOST_TEST(server.requests("google") == 1);
  auto reset = search_at(state_dir(), {"quota", "--reset-breaker", "google"});
  BOOST_TEST_REQUIRE(reset.exit_code == 0, reset.err);
  BOOST_TEST(pg_text("SELECT state FROM breakers WHERE kind = 'search'") == "closed");
  BOOST_TEST(pg_int("SELECT count(*) FROM events WHERE kind = 'breaker.reset' AND object = 'search/google'") == 1);
  BOOST_TEST(search_at(host_b, {"third"}).exit_code == 0);
  expect_no_sqlite();
}

// The worker's built-in `search` type runs on PostgreSQL: a task enqueued on one host, run by the other host's worker,
// keeps the answer as its result; a spent quota is a temporary failure (retried after the reset), as on SQLite.
BOOST_FIXTURE_TEST_CASE(a_search_task_runs_in_a_worker_on_postgresql_and_keeps_the_answer, PgSearch) {
  configure(1, 1);
  auto id = std::to_string(enqueue("default", "search", {"--data", R"({"query":"worker search","num":2})"}));
  auto over = std::to_string(enqueue("default", "search", {"--data", R"({"query":"one too many"})"}));
  auto worked = run_at("OOS_WORKER_BIN", host_b, {"--max-tasks", "2", "--name", "host-b:1"});
  BOOST_TEST_REQUIRE(worked.exit_code == 0, worked.err);
  BOOST_TEST(pg_text("SELECT status FROM tasks WHERE id = " + id) == "succeeded");
  auto result = json::parse(pg_text("SELECT result FROM tasks WHERE id = " + id));
  BOOST_TEST(result["provider"] == "google");
  BOOST_TEST(result["query"] == "worker search");
  BOOST_TEST(pg_text("SELECT status FROM tasks WHERE id = " + over) == "pending");
  BOOST_TEST(pg_text("SELECT outcome FROM task_attempts WHERE task_id = " + over) == "temporary");
  BOOST_TEST(server.requests("google") == 1);
  BOOST_TEST(worked.err.find(k_google_key) == std::string::npos);
  expect_no_sqlite();
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace oos::test
