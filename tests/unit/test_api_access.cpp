#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "api/access.hpp"
#include "util/constant_time.hpp"

using namespace oos;
using api::Role;

namespace {

const std::string k_csrf = "csrf-token-0123456789abcdef";
const api::AccessSettings k_no_tokens{std::nullopt, std::nullopt, api::default_allowed_hosts("127.0.0.1:8765")};
const api::AccessSettings k_tokens{"admin-token-123456", "reader-token-123456",
                                   api::default_allowed_hosts("127.0.0.1:8765")};

api::Request request(const std::string& method, bool loopback, std::map<std::string, std::string> headers = {}) {
  return {method, "/api/v1/queue/status", {}, std::move(headers), "", loopback};
}

int refused_with(const api::Access& access) {
  return access.refusal ? access.refusal->status : 0;
}

// The detail of a refusal of refuse_browser_write(), "" when it lets the request through.
std::string browser_refusal(const std::string& method, std::map<std::string, std::string> headers,
                            const std::string& csrf = k_csrf) {
  auto refusal = api::refuse_browser_write(request(method, true, std::move(headers)), csrf);
  if (!refusal) return "";
  BOOST_TEST(refusal->status == 403);
  return nlohmann::json::parse(refusal->body)["detail"].get<std::string>();
}

const std::string k_no_csrf =
    "a write from a browser needs the header X-CSRF-Token: read its value with GET /api/v1/csrf";
const std::string k_wrong_csrf =
    "X-CSRF-Token is not this server's CSRF token (a new one is made each time oos-api starts): read it again with "
    "GET /api/v1/csrf";

}  // namespace

BOOST_AUTO_TEST_SUITE(api_access)

BOOST_AUTO_TEST_CASE(secrets_compare_equal_only_when_equal) {
  BOOST_TEST(util::equal_in_constant_time("abc", "abc"));
  BOOST_TEST(!util::equal_in_constant_time("abc", "abd"));
  BOOST_TEST(!util::equal_in_constant_time("abc", "abcd"));
  BOOST_TEST(!util::equal_in_constant_time("", "a"));
}

BOOST_AUTO_TEST_CASE(without_tokens_only_loopback_may_get) {
  auto get = api::authorize(request("GET", true), k_no_tokens, false, k_csrf);
  BOOST_TEST(!get.refusal);
  BOOST_TEST((get.role == Role::anonymous));
  BOOST_TEST(refused_with(api::authorize(request("GET", false), k_no_tokens, false, k_csrf)) == 403);
  BOOST_TEST(refused_with(api::authorize(request("POST", true), k_no_tokens, false, k_csrf)) == 403);
  // /health is public, from anywhere.
  BOOST_TEST(!api::authorize(request("GET", false), k_no_tokens, true, k_csrf).refusal);
}

BOOST_AUTO_TEST_CASE(with_tokens_a_request_needs_one) {
  auto missing = api::authorize(request("GET", true), k_tokens, false, k_csrf);
  BOOST_TEST(refused_with(missing) == 401);
  bool challenged = false;
  for (const auto& [name, value] : missing.refusal->headers) challenged |= name == "WWW-Authenticate";
  BOOST_TEST(challenged);
  BOOST_TEST(nlohmann::json::parse(missing.refusal->body)["detail"] ==
             "this request needs a token: send 'Authorization: Bearer TOKEN' with the secret OOS_API_TOKEN or "
             "OOS_API_READONLY_TOKEN");
  auto wrong = api::authorize(request("GET", true, {{"authorization", "Bearer wrong"}}), k_tokens, false, k_csrf);
  BOOST_REQUIRE(refused_with(wrong) == 401);
  BOOST_TEST(nlohmann::json::parse(wrong.refusal->body)["detail"] ==
             "the bearer token is neither OOS_API_TOKEN nor OOS_API_READONLY_TOKEN: send one of them (oos-api reads "
             "them when it starts)");
  BOOST_TEST(refused_with(api::authorize(request("GET", true, {{"authorization", "Basic YTpi"}}), k_tokens, false,
                                         k_csrf)) == 401);
  BOOST_TEST(!api::authorize(request("GET", false), k_tokens, true, k_csrf).refusal);
}

BOOST_AUTO_TEST_CASE(the_readonly_token_reads_and_the_admin_token_writes) {
  auto reader =
      api::authorize(request("GET", false, {{"authorization", "Bearer reader-token-123456"}}), k_tokens, false, k_csrf);
  BOOST_TEST(!reader.refusal);
  BOOST_TEST((reader.role == Role::readonly));
  BOOST_TEST(refused_with(api::authorize(request("POST", false, {{"authorization", "Bearer reader-token-123456"}}),
                                         k_tokens, false, k_csrf)) == 403);
  auto admin =
      api::authorize(request("POST", false, {{"authorization", "bearer admin-token-123456"}}), k_tokens, false, k_csrf);
  BOOST_TEST(!admin.refusal);
  BOOST_TEST((admin.role == Role::admin));
  BOOST_TEST(api::to_string(Role::admin) == "admin");
}

BOOST_AUTO_TEST_CASE(a_host_outside_the_allowlist_is_421) {
  BOOST_TEST(!api::authorize(request("GET", true, {{"host", "127.0.0.1:8765"}}), k_no_tokens, false, k_csrf).refusal);
  BOOST_TEST(!api::authorize(request("GET", true, {{"host", "LOCALHOST:8765"}}), k_no_tokens, false, k_csrf).refusal);
  BOOST_TEST(!api::authorize(request("GET", true, {{"host", "[::1]:8765"}}), k_no_tokens, false, k_csrf).refusal);
  auto rebound = api::authorize(request("GET", true, {{"host", "evil.example:8765"}}), k_no_tokens, true, k_csrf);
  BOOST_TEST(refused_with(rebound) == 421);
  BOOST_TEST(
      nlohmann::json::parse(rebound.refusal->body)["detail"] ==
      "host 'evil.example' is not in the allowed hosts: use an address oos-api serves or add it to api.allowed_hosts");
}

BOOST_AUTO_TEST_CASE(host_of_drops_the_port_and_brackets) {
  BOOST_TEST(api::host_of("Example.org:80") == "example.org");
  BOOST_TEST(api::host_of("[::1]:8765") == "::1");
  BOOST_TEST(api::host_of("::1") == "::1");
  BOOST_TEST(api::host_of("127.0.0.1") == "127.0.0.1");
  auto hosts = api::default_allowed_hosts("0.0.0.0:8765");
  BOOST_TEST(hosts.size() == 4u);
  BOOST_TEST(hosts.back() == "0.0.0.0");
}

BOOST_AUTO_TEST_CASE(configured_hosts_join_the_defaults_once_in_lower_case) {
  const std::vector<std::string> configured{"OOS.example.org", "localhost", "proxy.example"};
  auto hosts = api::allowed_hosts("127.0.0.1:8765", configured);
  BOOST_TEST(hosts == (std::vector<std::string>{"localhost", "127.0.0.1", "::1", "oos.example.org", "proxy.example"}),
             boost::test_tools::per_element());
  BOOST_TEST(api::allowed_hosts("127.0.0.1:8765", {}) == api::default_allowed_hosts("127.0.0.1:8765"),
             boost::test_tools::per_element());
  api::AccessSettings settings{std::nullopt, std::nullopt, hosts};
  BOOST_TEST(!api::authorize(request("GET", true, {{"host", "oos.example.org"}}), settings, false, k_csrf).refusal);
  BOOST_TEST(!api::authorize(request("GET", true, {{"host", "Proxy.Example:443"}}), settings, false, k_csrf).refusal);
  BOOST_TEST(refused_with(api::authorize(request("GET", true, {{"host", "other.example"}}), settings, false, k_csrf)) ==
             421);
}

BOOST_AUTO_TEST_CASE(reads_and_writes_without_browser_headers_need_no_csrf_token) {
  BOOST_TEST(browser_refusal("GET", {{"origin", "http://evil.example"}, {"sec-fetch-site", "cross-site"}}) == "");
  BOOST_TEST(browser_refusal("HEAD", {{"origin", "null"}}) == "");
  BOOST_TEST(browser_refusal("POST", {{"host", "127.0.0.1:8765"}}) == "");  // curl, a script
  BOOST_TEST(browser_refusal("DELETE", {}) == "");
}

BOOST_AUTO_TEST_CASE(a_browser_write_from_another_site_is_refused_by_sec_fetch_site) {
  const std::map<std::string, std::string> base{{"host", "127.0.0.1:8765"}, {"x-csrf-token", k_csrf}};
  for (const auto* site : {"cross-site", "same-site", "Cross-Site", ""}) {
    auto headers = base;
    headers["sec-fetch-site"] = site;
    BOOST_TEST(browser_refusal("POST", headers) ==
                   std::string("a write from a page of another origin (Sec-Fetch-Site: ") + site +
                       ") is refused: send it from a page oos-api serves, or from a client that sends no Origin "
                       "(curl, a script)",
               site);
  }
  for (const auto* site : {"same-origin", "none", "Same-Origin"}) {
    auto headers = base;
    headers["sec-fetch-site"] = site;
    BOOST_TEST(browser_refusal("POST", headers) == "", site);
  }
}

BOOST_AUTO_TEST_CASE(a_browser_write_needs_an_origin_equal_to_the_host) {
  const std::map<std::string, std::string> base{{"host", "127.0.0.1:8765"}, {"x-csrf-token", k_csrf}};
  auto with_origin = [&](const std::string& origin) {
    auto headers = base;
    headers["origin"] = origin;
    return browser_refusal("POST", headers);
  };
  BOOST_TEST(with_origin("http://127.0.0.1:8765") == "");
  BOOST_TEST(with_origin("HTTPS://127.0.0.1:8765") == "");  // the scheme is not compared: a proxy may add TLS
  BOOST_TEST(with_origin("null") ==
             "a write with 'Origin: null' (a sandboxed, file: or redirected page) is refused: send it from a page "
             "oos-api serves");
  BOOST_TEST(with_origin("NULL").starts_with("a write with 'Origin: null'"));
  BOOST_TEST(with_origin("http://evil.example") ==
             "the Origin 'http://evil.example' is not this server ('127.0.0.1:8765'): send the write from a page "
             "oos-api serves (behind a proxy, pass the Host header on as the browser sent it)");
  for (const auto* other : {"http://127.0.0.1:8766", "http://127.0.0.1", "127.0.0.1:8765", "http://127.0.0.1:8765/x",
                            "http://localhost:8765"})
    BOOST_TEST(with_origin(other).starts_with("the Origin '"), other);
  // Case is ignored, as in host names.
  auto upper = base;
  upper["host"] = "OOS.Example.org";
  upper["origin"] = "https://oos.example.ORG";
  BOOST_TEST(browser_refusal("POST", upper) == "");
  // No Host to compare with.
  BOOST_TEST(browser_refusal("POST", {{"origin", "http://127.0.0.1:8765"}, {"x-csrf-token", k_csrf}}) ==
             "the Origin 'http://127.0.0.1:8765' is not this server ('no Host header'): send the write from a page "
             "oos-api serves (behind a proxy, pass the Host header on as the browser sent it)");
}

BOOST_AUTO_TEST_CASE(a_browser_write_needs_this_servers_csrf_token) {
  const std::map<std::string, std::string> same{
      {"host", "127.0.0.1:8765"}, {"origin", "http://127.0.0.1:8765"}, {"sec-fetch-site", "same-origin"}};
  BOOST_TEST(browser_refusal("POST", same) == k_no_csrf);
  auto wrong = same;
  wrong["x-csrf-token"] = "csrf-token-0123456789abcdeX";
  BOOST_TEST(browser_refusal("POST", wrong) == k_wrong_csrf);
  wrong["x-csrf-token"] = "";
  BOOST_TEST(browser_refusal("POST", wrong) == k_wrong_csrf);
  auto right = same;
  right["x-csrf-token"] = k_csrf;
  BOOST_TEST(browser_refusal("POST", right) == "");
  BOOST_TEST(browser_refusal("DELETE", right) == "");
  // Either browser header alone makes it a browser's write.
  BOOST_TEST(browser_refusal("POST", {{"sec-fetch-site", "same-origin"}}) == k_no_csrf);
  BOOST_TEST(browser_refusal("POST", {{"host", "h:1"}, {"origin", "http://h:1"}}) == k_no_csrf);
  BOOST_TEST(browser_refusal("POST", {{"sec-fetch-site", "none"}, {"x-csrf-token", k_csrf}}) == "");
  // A server without a token refuses them all, the empty header included.
  right["x-csrf-token"] = "";
  BOOST_TEST(browser_refusal("POST", right, "") ==
             "this server has no CSRF token, so it refuses every write from a browser");
}

BOOST_AUTO_TEST_CASE(a_forged_write_is_refused_before_its_token_is_looked_at) {
  const std::map<std::string, std::string> forged{{"host", "127.0.0.1:8765"},
                                                  {"origin", "http://evil.example"},
                                                  {"sec-fetch-site", "cross-site"},
                                                  {"authorization", "Bearer admin-token-123456"}};
  auto admin = api::authorize(request("POST", true, forged), k_tokens, false, k_csrf);
  BOOST_REQUIRE(refused_with(admin) == 403);
  BOOST_TEST(nlohmann::json::parse(admin.refusal->body)["detail"].get<std::string>().starts_with(
      "a write from a page of another origin"));
  auto guess = forged;
  guess["authorization"] = "Bearer wrong";
  BOOST_TEST(refused_with(api::authorize(request("POST", true, guess), k_tokens, false, k_csrf)) == 403);  // not 401
  // The Host comes first.
  auto rebound = forged;
  rebound["host"] = "evil.example";
  BOOST_TEST(refused_with(api::authorize(request("POST", true, rebound), k_tokens, false, k_csrf)) == 421);
  // A same-origin write with the CSRF token still needs the admin token.
  std::map<std::string, std::string> page{{"host", "127.0.0.1:8765"},
                                          {"origin", "http://127.0.0.1:8765"},
                                          {"sec-fetch-site", "same-origin"},
                                          {"x-csrf-token", k_csrf}};
  BOOST_TEST(refused_with(api::authorize(request("POST", true, page), k_tokens, false, k_csrf)) == 401);
  page["authorization"] = "Bearer reader-token-123456";
  BOOST_TEST(refused_with(api::authorize(request("POST", true, page), k_tokens, false, k_csrf)) == 403);
  page["authorization"] = "Bearer admin-token-123456";
  auto allowed = api::authorize(request("POST", true, page), k_tokens, false, k_csrf);
  BOOST_TEST(!allowed.refusal);
  BOOST_TEST((allowed.role == Role::admin));
  // A browser's read needs no CSRF token.
  auto read = forged;
  BOOST_TEST(!api::authorize(request("GET", true, read), k_tokens, false, k_csrf).refusal);
}

BOOST_AUTO_TEST_SUITE_END()
