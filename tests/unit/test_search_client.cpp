// search/client: the executor in process, over a real database, a fake http_get answering with the bodies of
// tests/fixtures/search, and a ManualClock, so that waits, backoffs and budgets take no real time. The wire
// (curl against FakeSearchServer) is cli.search_cli's.
#include <boost/test/unit_test.hpp>

#include <SQLiteCpp/Database.h>

#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "db/database.hpp"
#include "keys/key_ring.hpp"
#include "keys/sqlite_key_ring_store.hpp"
#include "log.hpp"
#include "search/client.hpp"
#include "search/sqlite_search_store.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"
#include "util/time.hpp"
#include "worker/search_task.hpp"

using namespace oos;
using oos::test::TempDir;
using oos::test::write_file;
using search::HttpError;
using search::HttpErrorKind;
using search::HttpResponse;
using search::SearchFailure;

BOOST_AUTO_TEST_SUITE(search_client)

namespace {

// 2026-12-06T12:00:00Z: 04:00 in California, the day of Google's quota until 2026-12-07T08:00:00Z.
constexpr util::UnixMillis k_noon = 1'796'558'400'000;
constexpr util::UnixMillis k_google_reset = 1'796'630'400'000;

using Reply = std::expected<HttpResponse, HttpError>;

std::string fixture(const std::string& name) {
  auto text = util::read_file(std::filesystem::path(OOS_SOURCE_DIR) / "tests" / "fixtures" / "search" / name);
  BOOST_TEST_REQUIRE(text.has_value(), name);
  return *text;
}

Reply answer(long status, const std::string& fixture_name, std::optional<std::string> retry_after = std::nullopt) {
  return HttpResponse{status, fixture(fixture_name), std::move(retry_after)};
}

Reply server_error() {
  return HttpResponse{500, R"({"error":{"code":500,"message":"Internal error encountered.","status":"INTERNAL"}})",
                      std::nullopt};
}

struct Request {
  std::string provider;
  std::string url;
  util::UnixMillis at;
  std::vector<std::string> headers;
};

// The key a request carried: Google's in the URL's key=, Brave's in its X-Subscription-Token header.
std::string key_of(const Request& r) {
  if (auto at = r.url.find("?key="); at != std::string::npos) return r.url.substr(at + 5, r.url.find('&', at) - at - 5);
  for (const auto& header : r.headers)
    if (header.starts_with("X-Subscription-Token: ")) return header.substr(22);
  return "";
}

struct ClientFixture {
  TempDir dir;
  config::Config config;
  util::ManualClock clock{k_noon};
  std::unique_ptr<log::Logger> logger;
  std::unique_ptr<db::Database> db;
  std::unique_ptr<search::SqliteSearchStore> store;
  std::unique_ptr<keys::SqliteKeyRingStore> key_rings;
  secrets::SecretStore secrets{dir / "credentials"};
  std::map<std::string, std::vector<Reply>> script;  // per provider; the last reply repeats
  std::vector<Request> requests;
  std::function<void()> on_request;  // runs as each request is sent
  std::unique_ptr<search::SearchClient> client;

  ClientFixture() {
    config.search.providers = {"google", "searxng"};
    config.search.provider["google"].endpoint = "http://google.test/customsearch/v1";
    config.search.provider["searxng"].endpoint = "http://searxng.test";
    config.search.provider["brave"].endpoint = "http://brave.test";
    config::LogSettings log;
    log.file = (dir / "search.log").string();
    logger = std::make_unique<log::Logger>("oos-search", config::LogLevel::info, config::LogFormat::json, log);
    db =
        std::make_unique<db::Database>(db::OpenOptions{dir / "oos.db", config::Synchronous::normal, util::Millis(100)});
    std::filesystem::create_directories(dir / "credentials");
    set_secret("GOOGLE_SEARCH_API_KEY", "AIzaFAKE-google-key-0123456789");
    set_secret("GOOGLE_SEARCH_ENGINE_ID", "fake-engine-id-4242");
    set_secret("BRAVE_SEARCH_API_KEY", "BSA-fake-brave-token-9876");
    store = std::make_unique<search::SqliteSearchStore>(*db, config.breaker, *logger);
    key_rings = std::make_unique<keys::SqliteKeyRingStore>(*db);
    client = std::make_unique<search::SearchClient>(*store, *key_rings, config, secrets, clock, *logger,
                                                    [this](const search::HttpRequest& r) { return serve(r); });
  }

  void set_secret(const std::string& name, const std::string& value) { write_file(dir / "credentials" / name, value); }

  Reply serve(const search::HttpRequest& r) {
    auto provider = r.url.find("google.test") != std::string::npos    ? "google"
                    : r.url.find("searxng.test") != std::string::npos ? "searxng"
                                                                      : "brave";
    requests.push_back({provider, r.url, clock.now(), r.headers});
    if (on_request) on_request();
    auto& replies = script[provider];
    if (replies.empty()) return answer(200, provider + std::string("_results.json"));
    auto reply = replies.front();
    if (replies.size() > 1) replies.erase(replies.begin());
    return reply;
  }

  search::SearchAnswer find(const std::string& text, util::Millis max_wait = util::Millis(30'000)) {
    search::SearchRequest request;
    request.query = {text, 3, 1};
    request.max_wait = max_wait;
    return client->search(request);
  }

  std::vector<Request> sent_to(const std::string& provider) const {
    std::vector<Request> out;
    for (const auto& r : requests)
      if (r.provider == provider) out.push_back(r);
    return out;
  }

  std::string log_text() const {
    std::ifstream in(dir / "search.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  long long sql_int(const std::string& sql) { return db->raw().execAndGet(sql).getInt64(); }

  // What the KeyRingStore holds of one key of `ring`; fails the test when it holds nothing.
  keys::KeyState key_state(const std::string& ring, const std::string& key) {
    auto fingerprint = keys::fingerprint(key_rings->fingerprint_key(), key);
    for (const auto& state : key_rings->keys(ring))
      if (state.fingerprint == fingerprint) return state;
    BOOST_FAIL("no row for a key of " << ring);
    return {};
  }

  std::vector<std::string> keys_sent_to(const std::string& provider) const {
    std::vector<std::string> out;
    for (const auto& r : sent_to(provider)) out.push_back(key_of(r));
    return out;
  }
};

using Keys = std::vector<std::string>;

}  // namespace

BOOST_FIXTURE_TEST_CASE(transient_errors_are_retried_1s_then_2s_apart_and_count_once_in_the_breaker, ClientFixture) {
  script["google"] = {server_error()};
  auto result = find("q");
  BOOST_TEST(result.provider == "searxng");
  auto google = sent_to("google");
  BOOST_TEST_REQUIRE(google.size() == 3u);  // k_attempts_per_provider
  auto first_gap = google[1].at - google[0].at, second_gap = google[2].at - google[1].at;
  BOOST_TEST((first_gap >= 800 && first_gap <= 1000), first_gap);  // 1 s less up to 20% jitter
  BOOST_TEST((second_gap >= 1600 && second_gap <= 2000), second_gap);
  BOOST_TEST(sql_int("SELECT consecutive_failures FROM breakers WHERE kind = 'search' AND name = 'google'") == 1);
  BOOST_TEST(result.skipped.at(0).starts_with("google: HTTP 500 INTERNAL: Internal error encountered."),
             result.skipped.at(0));
}

BOOST_FIXTURE_TEST_CASE(a_retry_after_within_max_wait_is_waited_for_and_one_beyond_is_not, ClientFixture) {
  config.search.providers = {"google"};
  script["google"] = {answer(429, "google_queries_per_minute_429.json", "1"), answer(200, "google_results.json")};
  BOOST_TEST(find("q").provider == "google");
  auto google = sent_to("google");
  BOOST_TEST_REQUIRE(google.size() == 2u);
  BOOST_TEST(google[1].at - google[0].at == 1000);

  script["google"] = {answer(429, "google_queries_per_minute_429.json", "60")};
  try {
    find("other", util::Millis(2'000));
    BOOST_FAIL("expected a SearchError");
  } catch (const search::SearchError& e) {
    BOOST_TEST(static_cast<int>(e.failure()) == static_cast<int>(SearchFailure::rate_limited));
    BOOST_TEST(std::string(e.what()).find("Retry-After 1m is beyond --max-wait") != std::string::npos, e.what());
  }
  BOOST_TEST(sent_to("google").size() == 3u);
}

// A pacing wait is not a request: the search still gets k_attempts_per_provider requests after waiting for its
// token, and the first request it sends is attempt 1.
BOOST_FIXTURE_TEST_CASE(pacing_waits_do_not_use_up_the_retries, ClientFixture) {
  config.search.providers = {"google"};
  config.search.provider["google"].daily_quota = 8640;  // one request per 10 s
  config.search.provider["google"].burst = 1;
  BOOST_TEST_REQUIRE(find("first").provider == "google");  // spends the only token
  script["google"] = {server_error()};
  auto before = clock.now();
  BOOST_CHECK_THROW(find("second", util::Millis(60'000)), search::SearchError);
  auto google = sent_to("google");
  BOOST_TEST(google.size() == 4u);                 // the first search's request and 3 attempts of the second
  BOOST_TEST(google.at(1).at - before >= 10'000);  // it waited for its token before its first request
  auto log = log_text();
  for (const char* attempt : {"(attempt 1)", "(attempt 2)", "(attempt 3)"})
    BOOST_TEST(log.find(attempt) != std::string::npos, attempt << " not in " << log);
  BOOST_TEST(log.find("(attempt 4)") == std::string::npos, log);
}

// Google's daily limit is a 429 "Queries per day"; with daily_quota = 0 (unlimited) the spent day must still be
// stored, or every later search spends a request on the same refusal.
BOOST_FIXTURE_TEST_CASE(an_unlimited_provider_that_says_its_day_is_spent_is_skipped_until_its_day_resets,
                        ClientFixture) {
  config.search.provider["google"].daily_quota = 0;
  script["google"] = {answer(429, "google_queries_per_day_429.json")};
  BOOST_TEST(find("first").provider == "searxng");
  BOOST_TEST(sent_to("google").size() == 1u);
  BOOST_TEST(sql_int("SELECT exhausted FROM rate_limits WHERE provider = 'google'") == 1);  // stored for all

  clock.advance(3 * 3'600'000);
  auto second = find("second");
  BOOST_TEST(second.provider == "searxng");
  BOOST_TEST(sent_to("google").size() == 1u);  // not asked again
  BOOST_TEST(second.skipped.at(0) ==
             "google: the provider said its daily quota is spent; not asked again until 2026-12-07T08:00:00Z");
  auto status = client->status();
  BOOST_TEST(status.at(0).spent);
  BOOST_TEST(status.at(0).resets_at == k_google_reset);

  clock.set(k_google_reset);  // midnight in California: a new quota day
  script["google"] = {answer(200, "google_results.json")};
  BOOST_TEST(find("third").provider == "google");
  BOOST_TEST(sent_to("google").size() == 2u);
}

// Another process holds the write lock while the request is out (past db.busy_timeout): the breaker's success
// and the cache entry are lost, with a warning each, and the answer is returned.
BOOST_FIXTURE_TEST_CASE(a_busy_database_after_the_answer_costs_the_cache_entry_not_the_answer, ClientFixture) {
  config.search.providers = {"google"};
  SQLite::Database other((dir / "oos.db").string(), SQLite::OPEN_READWRITE);
  on_request = [&] { other.exec("BEGIN IMMEDIATE"); };
  auto result = find("q");
  other.exec("ROLLBACK");
  BOOST_TEST(result.provider == "google");
  BOOST_TEST(result.page.results.size() == 3u);
  BOOST_TEST(sql_int("SELECT count(*) FROM search_cache") == 0);
  auto log = log_text();
  BOOST_TEST(
      log.find("search: the answer from google was not cached: database is locked, ignoring") != std::string::npos,
      log);
  BOOST_TEST(log.find("search: provider google's breaker not told of its answer: database is locked, ignoring") !=
                 std::string::npos,
             log);

  on_request = nullptr;  // the lock gone, the next search caches as before
  BOOST_TEST(find("q").cached == false);
  BOOST_TEST(find("q").cached == true);
}

BOOST_FIXTURE_TEST_CASE(a_cache_entry_or_a_search_payload_nested_100k_deep_is_refused_not_a_crash, ClientFixture) {
  config.search.providers = {"google"};
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  std::string deep_object;
  for (int i = 0; i < 100'000; ++i) deep_object += R"({"results":)";
  deep_object += "[]" + std::string(100'000, '}');

  auto set_cached_page = [&](const std::string& page) {
    SQLite::Statement update(db->raw(), "UPDATE search_cache SET page = ?");
    update.bind(1, page);
    BOOST_TEST_REQUIRE(update.exec() == 1);
  };
  BOOST_TEST_REQUIRE(find("q").cached == false);
  // An entry that is not a page cannot be read: asked again, and the fresh answer replaces it.
  for (const auto& page : {deep, deep_object, R"({"results":[{"title":)" + deep + "}]}",
                           R"({"results":[{"title":"t","link":)" + deep_object + "}]}"}) {
    set_cached_page(page);
    auto again = find("q");
    BOOST_TEST(again.cached == false);
    BOOST_TEST(again.page.results.size() == 3u);
  }
  // A page whose deep parts are ones the reader ignores is served.
  set_cached_page(R"({"results":[{"title":"t","other":)" + deep + R"(}],"total_results":)" + deep +
                  R"(,"next_start":)" + deep_object + "}");
  auto served = find("q");
  BOOST_TEST(served.cached == true);
  BOOST_TEST_REQUIRE(served.page.results.size() == 1u);
  BOOST_TEST(served.page.results[0].title == "t");

  for (const auto& payload : {deep, deep_object, R"({"query":)" + deep + "}", R"({"query":"q","num":)" + deep + "}"}) {
    queue::Task task;
    task.type = "search";
    task.payload = payload;
    auto result = worker::run_search_task(*client, task, config);
    BOOST_TEST(!result.succeeded);
    BOOST_TEST((result.failure.kind == policy::FailureKind::permanent));
  }
}

BOOST_FIXTURE_TEST_CASE(a_one_character_engine_id_leaves_error_messages_readable, ClientFixture) {
  set_secret("GOOGLE_SEARCH_ENGINE_ID", "c");
  config.search.providers = {"google"};
  script["google"] = {Reply(std::unexpected(
      HttpError{HttpErrorKind::connect, "Failed to connect to google.test port 80: Couldn't connect to server"}))};
  try {
    find("q", util::Millis(0));
    BOOST_FAIL("expected a SearchError");
  } catch (const search::SearchError& e) {
    BOOST_TEST(std::string(e.what()).find("request failed: Failed to connect to google.test port 80: Couldn't "
                                          "connect to server") != std::string::npos,
               e.what());
  }
}

// Key rings for the providers (docs/reference.md section 17): BRAVE_SEARCH_API_KEYS replaces BRAVE_SEARCH_API_KEY
// (which the fixture sets too, and which no request may carry then). A 429 cools its key down for a minute and the
// ring's next key answers; the next provider is not asked; the next search takes the key never used.
BOOST_FIXTURE_TEST_CASE(a_rate_limited_key_of_a_ring_gives_way_to_the_next_key_of_the_same_provider, ClientFixture) {
  config.search.providers = {"brave", "searxng"};
  set_secret("BRAVE_SEARCH_API_KEYS", "test-key-a, test-key-b,test-key-c\n");
  script["brave"] = {answer(429, "brave_rate_limited_429.json"), answer(200, "brave_results.json")};
  auto result = find("q");
  BOOST_TEST(result.provider == "brave");
  BOOST_TEST(result.skipped.empty());
  BOOST_TEST(keys_sent_to("brave") == (Keys{"test-key-a", "test-key-b"}), boost::test_tools::per_element());
  BOOST_TEST(sent_to("searxng").empty());
  const std::string ring = "BRAVE_SEARCH_API_KEYS";
  BOOST_TEST(key_state(ring, "test-key-a").cooldown_until == k_noon + 60'000);  // k_key_rate_limit_cooldown
  BOOST_TEST(key_state(ring, "test-key-b").cooldown_until == 0);
  BOOST_TEST(key_state(ring, "test-key-b").last_used_at.value_or(0) == k_noon);
  BOOST_TEST(!key_state(ring, "test-key-c").last_used_at.has_value());
  BOOST_TEST(sql_int("SELECT count(*) FROM breakers WHERE kind = 'search' AND consecutive_failures > 0") == 0);
  BOOST_TEST(sql_int("SELECT exhausted FROM rate_limits WHERE provider = 'brave'") == 0);
  auto log = log_text();
  auto a = keys::fingerprint(key_rings->fingerprint_key(), "test-key-a");
  BOOST_TEST(log.find("search provider brave: key " + a + " of ring BRAVE_SEARCH_API_KEYS: HTTP 429: RATE_LIMITED") !=
                 std::string::npos,
             log);
  for (const char* key : {"test-key-a", "test-key-b", "test-key-c", "BSA-fake-brave-token-9876"})
    BOOST_TEST(log.find(key) == std::string::npos, key << " in " << log);

  clock.advance(1'000);
  BOOST_TEST(find("next").provider == "brave");
  BOOST_TEST(keys_sent_to("brave").back() == "test-key-c");  // the least recently used not cooling down
}

// A key whose day is spent (Google's 429 "Queries per day") cools down until Google's quota day ends, midnight in
// California; the provider's own day is not marked spent (its other keys have theirs), and a Retry-After, when the
// provider gives one, is the cooldown instead.
BOOST_FIXTURE_TEST_CASE(a_spent_day_cools_its_key_until_the_quota_day_ends_not_the_provider, ClientFixture) {
  config.search.providers = {"google", "searxng"};
  set_secret("GOOGLE_SEARCH_API_KEYS", "test-key-a,test-key-b,test-key-c");
  script["google"] = {answer(429, "google_queries_per_day_429.json"), answer(200, "google_results.json")};
  BOOST_TEST(find("q").provider == "google");
  BOOST_TEST(keys_sent_to("google") == (Keys{"test-key-a", "test-key-b"}), boost::test_tools::per_element());
  BOOST_TEST(sent_to("google").at(1).url.find("&cx=fake-engine-id-4242&") != std::string::npos);
  BOOST_TEST(key_state("GOOGLE_SEARCH_API_KEYS", "test-key-a").cooldown_until == k_google_reset);
  BOOST_TEST(sql_int("SELECT exhausted FROM rate_limits WHERE provider = 'google'") == 0);
  BOOST_TEST(sent_to("searxng").empty());

  script["google"] = {answer(429, "google_queries_per_minute_429.json", "120"), answer(200, "google_results.json")};
  BOOST_TEST(find("other").provider == "google");
  BOOST_TEST(keys_sent_to("google") == (Keys{"test-key-a", "test-key-b", "test-key-c", "test-key-b"}),
             boost::test_tools::per_element());
  BOOST_TEST(key_state("GOOGLE_SEARCH_API_KEYS", "test-key-c").cooldown_until == k_noon + 120'000);
}

// Every key of the ring cools down: the provider is skipped with the ring named in `skipped`, the next provider
// answers, and the next search does not ask the provider at all until the first key is back.
BOOST_FIXTURE_TEST_CASE(when_every_key_of_the_ring_cools_down_the_next_provider_answers, ClientFixture) {
  config.search.providers = {"brave", "searxng"};
  set_secret("BRAVE_SEARCH_API_KEYS", "test-key-a,test-key-b");
  script["brave"] = {answer(429, "brave_rate_limited_429.json")};
  auto first = find("q");
  BOOST_TEST(first.provider == "searxng");
  BOOST_TEST(keys_sent_to("brave") == (Keys{"test-key-a", "test-key-b"}), boost::test_tools::per_element());
  BOOST_TEST_REQUIRE(first.skipped.size() == 1u);
  BOOST_TEST(first.skipped[0].starts_with("brave: every key of ring BRAVE_SEARCH_API_KEYS cools down until "
                                          "2026-12-06T12:01:00Z; the last: HTTP 429: RATE_LIMITED"),
             first.skipped[0]);

  clock.advance(10'000);
  auto second = find("other");
  BOOST_TEST(second.provider == "searxng");
  BOOST_TEST(sent_to("brave").size() == 2u);  // not asked
  BOOST_TEST_REQUIRE(second.skipped.size() == 1u);
  BOOST_TEST(second.skipped[0] ==
             "brave: every key of ring BRAVE_SEARCH_API_KEYS cools down until 2026-12-06T12:01:00Z");

  config.search.providers = {"brave"};  // alone, its ring cooling is a rate limit: exit 75, try again
  try {
    find("third");
    BOOST_FAIL("expected a SearchError");
  } catch (const search::SearchError& e) {
    BOOST_TEST(static_cast<int>(e.failure()) == static_cast<int>(SearchFailure::rate_limited));
  }

  clock.set(k_noon + 60'000);  // the first key is back
  script["brave"] = {answer(200, "brave_results.json")};
  BOOST_TEST(find("fourth").provider == "brave");
  BOOST_TEST(keys_sent_to("brave").back() == "test-key-a");
}

// Every key cools down for a Retry-After that fits in --max-wait: the first key back is waited for, as one key's
// Retry-After is.
BOOST_FIXTURE_TEST_CASE(a_ring_cooling_down_within_max_wait_is_waited_for, ClientFixture) {
  config.search.providers = {"brave", "searxng"};
  set_secret("BRAVE_SEARCH_API_KEYS", "test-key-a,test-key-b");
  script["brave"] = {answer(429, "brave_rate_limited_429.json", "1"), answer(429, "brave_rate_limited_429.json", "2"),
                     answer(200, "brave_results.json")};
  BOOST_TEST(find("q").provider == "brave");
  auto brave = sent_to("brave");
  BOOST_TEST_REQUIRE(brave.size() == 3u);
  BOOST_TEST(keys_sent_to("brave") == (Keys{"test-key-a", "test-key-b", "test-key-a"}),
             boost::test_tools::per_element());
  BOOST_TEST(brave[2].at - brave[0].at == 1'000);
  BOOST_TEST(sent_to("searxng").empty());
}

// Without the ring secret (or with one that holds no key) the one key's secret serves as before: a 429 moves on
// to the next provider, and the KeyRingStore holds nothing.
BOOST_FIXTURE_TEST_CASE(a_provider_with_one_key_secret_is_unchanged, ClientFixture) {
  config.search.providers = {"brave", "searxng"};
  script["brave"] = {answer(429, "brave_rate_limited_429.json")};
  auto result = find("q");
  BOOST_TEST(result.provider == "searxng");
  BOOST_TEST(keys_sent_to("brave") == (Keys{"BSA-fake-brave-token-9876"}), boost::test_tools::per_element());
  BOOST_TEST(result.skipped.at(0).starts_with("brave: HTTP 429: RATE_LIMITED"), result.skipped.at(0));

  set_secret("BRAVE_SEARCH_API_KEYS", " , ,");
  script["brave"] = {answer(200, "brave_results.json")};
  BOOST_TEST(find("other").provider == "brave");
  BOOST_TEST(keys_sent_to("brave").back() == "BSA-fake-brave-token-9876");
  BOOST_TEST(key_rings->keys("BRAVE_SEARCH_API_KEYS").empty());
}

BOOST_AUTO_TEST_SUITE_END()
