// oos-api's protections against browsers, over real HTTP: the configured Host allowlist, a browser's writes
// (Sec-Fetch-Site, Origin, the CSRF token of GET /api/v1/csrf), and ETag / If-None-Match on GET replies.
#include <signal.h>

#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "cli/api_support.hpp"

using nlohmann::json;
using oos::test::ApiFixture;
using oos::test::http;
using oos::test::HttpReply;
using oos::test::k_admin;

namespace {

const std::string k_no_csrf =
    "a write from a browser needs the header X-CSRF-Token: read its value with GET /api/v1/csrf";

// A problem's detail; "" for another body (a success).
std::string detail(const HttpReply& reply) {
  auto doc = json::parse(reply.body, nullptr, false);
  return doc.is_object() ? doc.value("detail", "") : "";
}

// The CSRF token oos-api hands to a reader.
std::string csrf_token(ApiFixture& f, const std::string& authorization = k_admin) {
  auto reply = http("GET", f.base + "/api/v1/csrf", "", {authorization});
  BOOST_REQUIRE_EQUAL(reply.status, 200);
  return json::parse(reply.body)["csrf_token"].get<std::string>();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_guard)

BOOST_FIXTURE_TEST_CASE(a_configured_allowed_host_is_served_and_another_is_421, ApiFixture) {
  write_config("[api]\nallowed_hosts = [\"oos.example.org\"]\n");
  start_api();
  auto url = base + "/api/v1/queue/status";
  BOOST_TEST(http("GET", url, "", {"Host: oos.example.org"}).status == 200);
  BOOST_TEST(http("GET", url, "", {"Host: OOS.example.org:8443"}).status == 200);
  BOOST_TEST(http("GET", url, "", {"Host: localhost"}).status == 200);  // the defaults stay
  auto other = http("GET", url, "", {"Host: other.example.org"});
  BOOST_TEST(other.status == 421);
  BOOST_TEST(detail(other) ==
             "host 'other.example.org' is not in the allowed hosts: use an address oos-api serves or add it to "
             "api.allowed_hosts");
}

BOOST_FIXTURE_TEST_CASE(a_cross_site_write_with_the_admin_token_is_403_and_changes_nothing, ApiFixture) {
  enqueue("mail", "send");
  start_api({"OOS_API_TOKEN=admin-token-123456"});
  auto token = csrf_token(*this);
  const std::string csrf = "X-CSRF-Token: " + token;  // even the right CSRF token does not help a forged write
  const std::vector<std::pair<std::vector<std::string>, std::string>> forged{
      {{"Origin: http://evil.example", "Sec-Fetch-Site: cross-site"}, "a write from a page of another origin"},
      {{"Sec-Fetch-Site: same-site"}, "a write from a page of another origin"},
      {{"Origin: http://evil.example"}, "the Origin 'http://evil.example' is not this server"},
      {{"Origin: null"}, "a write with 'Origin: null'"},
  };
  for (const auto& [headers, start] : forged) {
    auto with = headers;
    with.push_back(k_admin);
    with.push_back(csrf);
    auto pause = http("POST", base + "/api/v1/queue/mail/pause", "", with);
    BOOST_TEST(pause.status == 403, headers.front());
    BOOST_TEST(detail(pause).starts_with(start), detail(pause));
    auto post = http("POST", base + "/api/v1/queue/mail/tasks", R"({"type":"forged"})", with);
    BOOST_TEST(post.status == 403, headers.front());
  }
  BOOST_TEST(json::parse(queue({"status", "--json"}).out)["queues"][0]["paused"] == false);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 1);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind IN ('api.write', 'queue.pause')") == 0);
}

BOOST_FIXTURE_TEST_CASE(a_same_origin_write_needs_the_csrf_token, ApiFixture) {
  enqueue("mail", "send");
  start_api({"OOS_API_TOKEN=admin-token-123456", "OOS_API_READONLY_TOKEN=reader-token-123456"});
  auto token = csrf_token(*this, "Authorization: Bearer reader-token-123456");  // any reader may have it
  BOOST_TEST(token.size() == 64u);
  BOOST_TEST(token.find_first_not_of("0123456789abcdef") == std::string::npos);
  BOOST_TEST(csrf_token(*this) == token);                        // one per process
  BOOST_TEST(http("GET", base + "/api/v1/csrf").status == 401);  // a reader's, not everyone's
  const std::vector<std::string> page{k_admin, "Origin: " + base, "Sec-Fetch-Site: same-origin"};

  auto without = http("POST", base + "/api/v1/queue/mail/pause", "", page);
  BOOST_TEST(without.status == 403);
  BOOST_TEST(detail(without) == k_no_csrf);
  auto wrong_headers = page;
  wrong_headers.push_back("X-CSRF-Token: " + std::string(64, '0'));
  BOOST_TEST(http("POST", base + "/api/v1/queue/mail/pause", "", wrong_headers).status == 403);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'queue.pause'") == 0);

  auto with_headers = page;
  with_headers.push_back("X-CSRF-Token: " + token);
  auto with = http("POST", base + "/api/v1/queue/mail/pause", "", with_headers);
  BOOST_TEST(with.status == 200);
  BOOST_TEST(json::parse(with.body) == json::parse(R"({"queue":"mail","paused":true,"changed":true})"));
  BOOST_TEST(http("POST", base + "/api/v1/queue/mail/tasks", R"({"type":"t"})", with_headers).status == 201);
  // The CSRF token does not stand in for the admin token.
  with_headers[0] = "Authorization: Bearer reader-token-123456";
  BOOST_TEST(http("POST", base + "/api/v1/queue/mail/resume", "", with_headers).status == 403);

  // A new process, a new token: the old one no longer works.
  api->signal(SIGTERM);
  BOOST_REQUIRE(api->wait(oos::test::scaled(std::chrono::seconds(10))) == 0);
  start_api({"OOS_API_TOKEN=admin-token-123456"});
  BOOST_TEST(csrf_token(*this) != token);
  const std::vector<std::string> stale{k_admin, "Origin: " + base, "X-CSRF-Token: " + token};
  BOOST_TEST(http("POST", base + "/api/v1/queue/mail/resume", "", stale).status == 403);
}

BOOST_FIXTURE_TEST_CASE(a_write_without_browser_headers_needs_only_the_admin_token, ApiFixture) {
  enqueue("mail", "send");
  start_api({"OOS_API_TOKEN=admin-token-123456"});
  auto reply = http("POST", base + "/api/v1/queue/mail/pause", "", {k_admin});
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(http("POST", base + "/api/v1/queue/mail/tasks", R"({"type":"t"})", {k_admin}).status == 201);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 2);
}

BOOST_FIXTURE_TEST_CASE(without_tokens_loopback_reads_the_csrf_token, ApiFixture) {
  start_api();
  auto reply = get("/api/v1/csrf");
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(reply.headers["content-type"] == "application/json");
  BOOST_TEST(json::parse(reply.body)["csrf_token"].get<std::string>().size() == 64u);
  BOOST_TEST(http("POST", base + "/api/v1/csrf").status == 403);  // a write, and no admin token configured
}

BOOST_FIXTURE_TEST_CASE(a_get_reply_carries_an_etag_and_if_none_match_gives_304, ApiFixture) {
  enqueue("mail", "send", {"--delay", "1h"});  // not runnable: no age in the document moves
  start_api();
  const std::string url = base + "/api/v1/queue/mail/stats";
  auto first = http("GET", url);
  BOOST_TEST(first.status == 200);
  auto tag = first.headers["etag"];
  BOOST_TEST(tag.size() == 34u, tag);  // "<32 hex digits>"
  BOOST_TEST(http("GET", url).headers["etag"] == tag);

  for (const auto& condition : {tag, "\"00000000000000000000000000000000\", " + tag, "W/" + tag, std::string("*")}) {
    auto again = http("GET", url, "", {"If-None-Match: " + condition});
    BOOST_TEST(again.status == 304, condition);
    BOOST_TEST(again.body.empty());
    BOOST_TEST(again.headers["etag"] == tag);
    BOOST_TEST(again.headers["x-content-type-options"] == "nosniff");
    BOOST_TEST(again.headers["cache-control"] == "no-store");
    BOOST_TEST(again.headers["content-security-policy"] == "default-src 'self'");
  }
  auto head = http("HEAD", url, "", {"If-None-Match: " + tag});
  BOOST_TEST(head.status == 304);
  BOOST_TEST(head.headers["etag"] == tag);
  auto head_plain = http("HEAD", url);
  BOOST_TEST(head_plain.status == 200);
  BOOST_TEST(head_plain.headers["etag"] == tag);
  BOOST_TEST(http("GET", url, "", {"If-None-Match: \"0000000000000000\""}).status == 200);

  enqueue("mail", "send", {"--delay", "1h"});  // the state changes: a new body, a new tag
  auto changed = http("GET", url, "", {"If-None-Match: " + tag});
  BOOST_TEST(changed.status == 200);
  BOOST_TEST(!changed.body.empty());
  BOOST_TEST(changed.body != first.body);
  BOOST_TEST(changed.headers["etag"] != tag);
  BOOST_TEST(changed.headers["etag"].size() == 34u);
  BOOST_TEST(http("GET", url, "", {"If-None-Match: " + changed.headers["etag"]}).status == 304);
}

BOOST_FIXTURE_TEST_CASE(only_a_200_to_get_or_head_carries_an_etag, ApiFixture) {
  enqueue("mail", "send");
  start_api({"OOS_API_TOKEN=admin-token-123456"});
  BOOST_TEST(http("GET", base + "/api/v1/queue/status", "", {k_admin}).headers.contains("etag"));
  auto missing = http("GET", base + "/api/v1/queue/nope/stats", "", {k_admin, "If-None-Match: *"});
  BOOST_TEST(missing.status == 404);
  BOOST_TEST(!missing.headers.contains("etag"));
  BOOST_TEST(http("GET", base + "/api/v1/queue/status", "", {"If-None-Match: *"}).status == 401);
  auto write = http("POST", base + "/api/v1/queue/mail/pause", "", {k_admin, "If-None-Match: *"});
  BOOST_TEST(write.status == 200);
  BOOST_TEST(!write.headers.contains("etag"));
}

BOOST_AUTO_TEST_SUITE_END()
