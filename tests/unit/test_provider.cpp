// search/provider: each provider's request and how its wire format (results and error envelopes) is read.
#include <boost/test/unit_test.hpp>

#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "error.hpp"
#include "search/provider.hpp"
#include "util/files.hpp"

using namespace oos;
using search::HttpResponse;
using search::Problem;

BOOST_AUTO_TEST_SUITE(provider)

namespace {

std::unique_ptr<search::Provider> make(const std::string& name, const std::string& endpoint) {
  config::SearchProvider settings;
  settings.endpoint = endpoint;
  return search::make_provider(name, settings);
}

std::string google_error(int code, const std::string& status, const std::string& reason, const std::string& message) {
  return R"({"error":{"code":)" + std::to_string(code) + R"(,"message":")" + message + R"(","errors":[{"message":")" +
         message + R"(","domain":"global","reason":")" + reason + R"("}],"status":")" + status + R"("}})";
}

// A provider's body from tests/fixtures/search (see the README there for where each comes from).
std::string fixture(const std::string& name) {
  auto path = std::filesystem::path(OOS_SOURCE_DIR) / "tests" / "fixtures" / "search" / name;
  auto text = util::read_file(path);
  BOOST_TEST_REQUIRE(text.has_value(), "cannot read " << path);
  return *text;
}

}  // namespace

BOOST_AUTO_TEST_CASE(google_request_carries_key_engine_query_num_and_start) {
  auto google = make("google", "https://customsearch.googleapis.com/customsearch/v1/");
  auto r =
      google->request({"c++ & sqlite", 5, 11}, {{"GOOGLE_SEARCH_API_KEY", "k/1"}, {"GOOGLE_SEARCH_ENGINE_ID", "e1"}});
  BOOST_TEST(
      r.url ==
      "https://customsearch.googleapis.com/customsearch/v1?key=k%2F1&cx=e1&q=c%2B%2B%20%26%20sqlite&num=5&start=11");
  BOOST_TEST(
      search::redact_url(r.url) ==
      "https://customsearch.googleapis.com/customsearch/v1?key=REDACTED&cx=REDACTED&q=c%2B%2B%20%26%20sqlite&num=5&"
      "start=11");
}

BOOST_AUTO_TEST_CASE(google_errors_are_classified_by_reason_then_status) {
  struct Case {
    long status;
    std::string body;
    Problem expected;
  };
  const std::vector<Case> cases{
      {429, google_error(429, "RESOURCE_EXHAUSTED", "rateLimitExceeded", "Queries per minute"), Problem::rate_limited},
      {429,
       google_error(429, "RESOURCE_EXHAUSTED", "rateLimitExceeded",
                    "Quota exceeded for quota metric 'Queries' and limit 'Queries per day'"),
       Problem::quota_exhausted},
      {403, google_error(403, "PERMISSION_DENIED", "dailyLimitExceeded", "Daily Limit Exceeded"),
       Problem::quota_exhausted},
      {403, google_error(403, "PERMISSION_DENIED", "forbidden", "This project does not have the access"),
       Problem::permanent},
      {400, google_error(400, "INVALID_ARGUMENT", "badRequest", "invalid argument"), Problem::bad_request},
      {500, google_error(500, "INTERNAL", "backendError", "Internal error"), Problem::transient},
      {503, "<html>Service Unavailable</html>", Problem::transient},
      {200, "{\"items\":[{\"title\":", Problem::transient},  // malformed
  };
  auto google = make("google", "http://x");
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.status << " " << c.body) {
      auto page = google->read({"q"}, HttpResponse{c.status, c.body, std::nullopt});
      BOOST_TEST_REQUIRE(!page.has_value());
      BOOST_TEST(static_cast<int>(page.error().problem) == static_cast<int>(c.expected));
    }
  }
}

BOOST_AUTO_TEST_CASE(google_without_items_is_zero_results_and_retry_after_is_read) {
  auto google = make("google", "http://x");
  auto page = google->read({"q"}, HttpResponse{200, R"({"searchInformation":{"totalResults":"0"}})", std::nullopt});
  BOOST_TEST_REQUIRE(page.has_value());
  BOOST_TEST(page->results.empty());
  BOOST_TEST(page->total_results.value_or(-1) == 0);
  auto limited =
      google->read({"q"}, HttpResponse{429, google_error(429, "RESOURCE_EXHAUSTED", "rateLimitExceeded", "m"), "7"});
  BOOST_TEST_REQUIRE(!limited.has_value());
  BOOST_TEST(limited.error().retry_after.value_or(util::Millis(-1)).count() == 7000);
  // A Retry-After date counts from when the reply arrived (the caller's clock), not from the system clock.
  auto dated = google->read({"q"}, HttpResponse{429, google_error(429, "RESOURCE_EXHAUSTED", "rateLimitExceeded", "m"),
                                                "Sun, 06 Nov 1994 08:49:37 GMT", 784'111'747'000});
  BOOST_TEST_REQUIRE(!dated.has_value());
  BOOST_TEST(dated.error().retry_after.value_or(util::Millis(-1)).count() == 30'000);
}

BOOST_AUTO_TEST_CASE(searxng_cuts_its_page_to_num_from_start) {
  auto searxng = make("searxng", "http://searx.local");
  auto r = searxng->request({"a b", 3, 12}, {});
  BOOST_TEST(r.url == "http://searx.local/search?q=a%20b&format=json&pageno=2");
  std::string results;
  for (int i = 1; i <= 10; ++i)
    results += std::string(i > 1 ? "," : "") + R"({"title":"t)" + std::to_string(i) + R"(","url":"u","content":"c"})";
  auto page = searxng->read({"a b", 3, 12}, HttpResponse{200, R"({"results":[)" + results + "]}", std::nullopt});
  BOOST_TEST_REQUIRE(page.has_value());
  BOOST_TEST_REQUIRE(page->results.size() == 3u);
  BOOST_TEST(page->results[0].title == "t2");  // start 12 is the 2nd result of page 2
}

BOOST_AUTO_TEST_CASE(brave_quota_limited_is_a_spent_quota_and_rate_limited_is_not) {
  auto brave = make("brave", "https://api.search.brave.com");
  auto r = brave->request({"q", 10, 51}, {{"BRAVE_SEARCH_API_KEY", "tok"}});
  BOOST_TEST(r.url == "https://api.search.brave.com/res/v1/web/search?q=q&count=20&offset=2");
  BOOST_TEST((std::find(r.headers.begin(), r.headers.end(), "X-Subscription-Token: tok") != r.headers.end()));
  auto quota = brave->read(
      {"q"},
      HttpResponse{429, R"({"type":"ErrorResponse","error":{"code":"QUOTA_LIMITED","detail":"d"}})", std::nullopt});
  BOOST_TEST_REQUIRE(!quota.has_value());
  BOOST_TEST(static_cast<int>(quota.error().problem) == static_cast<int>(Problem::quota_exhausted));
  auto rate = brave->read(
      {"q"},
      HttpResponse{429, R"({"type":"ErrorResponse","error":{"code":"RATE_LIMITED","detail":"d"}})", std::nullopt});
  BOOST_TEST_REQUIRE(!rate.has_value());
  BOOST_TEST(static_cast<int>(rate.error().problem) == static_cast<int>(Problem::rate_limited));
}

BOOST_AUTO_TEST_CASE(brave_serves_any_start_from_the_page_of_20_that_holds_it) {
  auto brave = make("brave", "https://api.search.brave.com");
  std::string results;
  for (int i = 1; i <= 20; ++i)
    results += std::string(i > 1 ? "," : "") + R"({"title":"t)" + std::to_string(i + 40) + R"(","url":"u"})";
  // start 45 is the 5th result of the page at offset 2 (results 41-60)
  BOOST_TEST(brave->request({"q", 3, 45}, {{"BRAVE_SEARCH_API_KEY", "tok"}}).url.ends_with("count=20&offset=2"));
  auto page = brave->read({"q", 3, 45}, HttpResponse{200, R"({"web":{"results":[)" + results + "]}}", std::nullopt});
  BOOST_TEST_REQUIRE(page.has_value());
  BOOST_TEST_REQUIRE(page->results.size() == 3u);
  BOOST_TEST(page->results[0].title == "t45");
  BOOST_TEST(brave->request({"q", 10, 91}, {{"BRAVE_SEARCH_API_KEY", "tok"}}).url.ends_with("offset=4"));
}

BOOST_AUTO_TEST_CASE(a_key_echoed_in_an_error_body_is_redacted_before_the_message_is_cut) {
  auto google = make("google", "http://x");
  std::string body = "<html>" + std::string(180, '.') + " GET /customsearch/v1?key=AIzaSECRETSECRETSECRET&q=x</html>";
  auto failure = google->read({"q"}, HttpResponse{502, body, std::nullopt});
  BOOST_TEST_REQUIRE(!failure.has_value());
  BOOST_TEST(failure.error().message.find("AIza") == std::string::npos, failure.error().message);
}

BOOST_AUTO_TEST_CASE(retry_after_takes_seconds_or_an_http_date) {
  BOOST_TEST(search::parse_retry_after("120", 0).value_or(util::Millis(-1)).count() == 120'000);
  // Sun, 06 Nov 1994 08:49:37 GMT is 784111777 s after the epoch.
  BOOST_TEST(
      search::parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784'111'770'000).value_or(util::Millis(-1)).count() ==
      7'000);
  BOOST_TEST(!search::parse_retry_after("soon", 0).has_value());
  BOOST_TEST(!search::parse_retry_after("-5", 0).has_value());
  BOOST_TEST(search::parse_retry_after("99999999999999999", 0).value_or(util::Millis(-1)).count() == 86'400'000);
}

struct BodyCase {
  std::string provider;
  std::string fixture;
  search::Query query;
  std::vector<std::string> titles;
  std::vector<std::string> snippets;
  std::optional<std::int64_t> total_results;
  std::optional<int> next_start;
};

// Titles and snippets are plain text whatever the provider sent: Brave's <strong> highlights and entities,
// Google's entities and line breaks in its plain fields, SearXNG's entities and empty contents.
BOOST_AUTO_TEST_CASE(real_result_bodies_are_read_as_plain_text) {
  const std::vector<BodyCase> cases{
      {"google",
       "google_results.json",
       {"sqlite wal mode", 3, 1},
       {"Write-Ahead Logging & checkpoints", "Why isn't my WAL file shrinking?", "PRAGMA journal_mode"},
       {"Jan 4, 2026 ... The default method by which SQLite implements atomic commit is a rollback journal. "
        "Beginning with version 3.7.0, a new \"Write-Ahead Log\" option is available ...",
        "A reader that never finishes keeps the checkpoint from resetting the WAL, so it grows without end.",
        "The WAL journaling mode uses a write-ahead log instead of a rollback journal to implement transactions."},
       12300,
       4},
      {"google",
       "google_last_page.json",
       {"oos backup manifest", 10, 1},
       {"Backups: the manifest", "Restore"},
       {"Each backup has a manifest with its SHA-256.", ""},
       2,
       std::nullopt},
      {"google", "google_no_results.json", {"zzqx oos nothing", 10, 1}, {}, {}, 0, std::nullopt},
      {"brave",
       "brave_results.json",
       {"sqlite wal mode", 10, 1},
       {"Write-Ahead Logging", "Why isn't my WAL file shrinking? - Q&A", "PRAGMA journal_mode"},
       {"The default method by which SQLite implements atomic commit is a rollback journal. Beginning with version "
        "3.7.0, a new \"Write-Ahead Log\" option is available.",
        "A reader that never finishes keeps the checkpoint from resetting the WAL, so it grows without end. Don't "
        "keep a read transaction open.",
        ""},
       std::nullopt,
       std::nullopt},
      {"brave", "brave_web_null.json", {"zzqx oos nothing", 10, 1}, {}, {}, std::nullopt, std::nullopt},
      {"searxng",
       "searxng_results.json",
       {"sqlite wal mode", 10, 1},
       {"Write-Ahead Logging", "Why isn't my WAL file shrinking? | Q&A", "PRAGMA statements"},
       {"The default method by which SQLite implements atomic commit is a rollback journal. A new \"Write-Ahead "
        "Log\" option is available & on by default here.",
        "A reader that never finishes keeps the checkpoint from resetting the WAL.", ""},
       std::nullopt,
       std::nullopt},
  };
  const std::regex markup(R"(<[a-zA-Z/]|&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);|\s\s|[\n\r\t]|^\s|\s$)");
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.fixture) {
      auto page = make(c.provider, "http://x")->read(c.query, HttpResponse{200, fixture(c.fixture), std::nullopt});
      // The message is evaluated even when the check holds: error() only of a failure (_GLIBCXX_ASSERTIONS).
      BOOST_TEST_REQUIRE(page.has_value(), (page.has_value() ? std::string() : page.error().message));
      std::vector<std::string> titles, snippets;
      for (const auto& r : page->results) {
        titles.push_back(r.title);
        snippets.push_back(r.snippet);
        BOOST_TEST(!std::regex_search(r.title, markup), r.title);
        BOOST_TEST(!std::regex_search(r.snippet, markup), r.snippet);
        BOOST_TEST(r.link.starts_with("https://example.org/"), r.link);
      }
      BOOST_TEST(titles == c.titles, boost::test_tools::per_element());
      BOOST_TEST(snippets == c.snippets, boost::test_tools::per_element());
      BOOST_TEST(page->total_results.value_or(-1) == c.total_results.value_or(-1));
      BOOST_TEST(page->next_start.value_or(-1) == c.next_start.value_or(-1));
    }
  }
}

struct ErrorCase {
  std::string provider;
  std::string fixture;
  long status;
  Problem expected;
};

// Real error bodies: the provider's code or reason decides before the HTTP status (a wrong key comes as 400 from
// Google and 422 from Brave, a spent day as 429 with reason rateLimitExceeded from Google).
BOOST_AUTO_TEST_CASE(real_error_bodies_are_classified_by_what_they_say) {
  const std::vector<ErrorCase> cases{
      {"google", "google_queries_per_day_429.json", 429, Problem::quota_exhausted},
      {"google", "google_queries_per_minute_429.json", 429, Problem::rate_limited},
      {"google", "google_daily_limit_403.json", 403, Problem::quota_exhausted},
      {"google", "google_key_invalid_400.json", 400, Problem::permanent},
      {"google", "google_invalid_argument_400.json", 400, Problem::bad_request},
      {"brave", "brave_token_invalid_422.json", 422, Problem::permanent},
      {"brave", "brave_validation_422.json", 422, Problem::bad_request},
      {"brave", "brave_rate_limited_429.json", 429, Problem::rate_limited},
      {"brave", "brave_quota_limited_429.json", 429, Problem::quota_exhausted},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.fixture) {
      auto page = make(c.provider, "http://x")->read({"q"}, HttpResponse{c.status, fixture(c.fixture), std::nullopt});
      BOOST_TEST_REQUIRE(!page.has_value());
      BOOST_TEST(to_string(page.error().problem) == to_string(c.expected), page.error().message);
      BOOST_TEST(page.error().message.find('\n') == std::string::npos);
    }
  }
}

// nlohmann's parser does not recurse and neither does destroying what it built, but copying, comparing or
// dumping a value does (once per level): a body nested 100k deep anywhere must be read without any of those.
BOOST_AUTO_TEST_CASE(bodies_nested_100k_deep_are_failures_not_crashes) {
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  std::string deep_object;
  for (int i = 0; i < 100'000; ++i) deep_object += R"({"a":)";
  deep_object += "1" + std::string(100'000, '}');
  const std::vector<std::string> wrapped = {
      R"({"items":)" + deep + "}",
      R"({"items":[)" + deep_object + "]}",
      R"({"error":{"message":)" + deep + R"(,"errors":[)" + deep + R"(],"details":[)" + deep_object + "]}}",
      R"({"results":[)" + deep_object + R"(],"number_of_results":)" + deep + "}",
      R"({"web":{"results":[)" + deep_object + "]}}",
      R"({"searchInformation":{"totalResults":)" + deep + R"(},"queries":{"nextPage":[)" + deep_object + "]}}",
      R"({"type":"ErrorResponse","error":{"code":)" + deep + R"(,"meta":)" + deep_object + "}}",
  };
  for (const std::string name : {"google", "searxng", "brave"}) {
    auto p = make(name, "http://x");
    for (long status : {200L, 403L, 429L, 500L}) {
      BOOST_TEST(!p->read({"q", 10, 1}, HttpResponse{status, deep, std::nullopt}).has_value(), name << " " << status);
      auto object = p->read({"q", 10, 1}, HttpResponse{status, deep_object, std::nullopt});
      if (status != 200) BOOST_TEST(!object.has_value(), name << " " << status);
      if (object) BOOST_TEST(object->results.empty());  // an object without results: an empty page
      for (const auto& body : wrapped) (void)p->read({"q", 3, 5}, HttpResponse{status, body, std::nullopt});
    }
  }
}

BOOST_AUTO_TEST_CASE(unknown_providers_are_refused) {
  BOOST_CHECK_THROW(make("bing", "http://x"), oos::Error);
}

BOOST_AUTO_TEST_SUITE_END()
