#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "api/access.hpp"
#include "util/constant_time.hpp"

using namespace oos;
using api::Role;

namespace {

const api::AccessSettings k_no_tokens{std::nullopt, std::nullopt, api::default_allowed_hosts("127.0.0.1:8765")};
const api::AccessSettings k_tokens{"admin-token-123456", "reader-token-123456",
                                   api::default_allowed_hosts("127.0.0.1:8765")};

api::Request request(const std::string& method, bool loopback, std::map<std::string, std::string> headers = {}) {
  return {method, "/api/v1/queue/status", {}, std::move(headers), "", loopback};
}

int refused_with(const api::Access& access) {
  return access.refusal ? access.refusal->status : 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_access)

BOOST_AUTO_TEST_CASE(secrets_compare_equal_only_when_equal) {
  BOOST_TEST(util::equal_in_constant_time("abc", "abc"));
  BOOST_TEST(!util::equal_in_constant_time("abc", "abd"));
  BOOST_TEST(!util::equal_in_constant_time("abc", "abcd"));
  BOOST_TEST(!util::equal_in_constant_time("", "a"));
}

BOOST_AUTO_TEST_CASE(without_tokens_only_loopback_may_get) {
  auto get = api::authorize(request("GET", true), k_no_tokens, false);
  BOOST_TEST(!get.refusal);
  BOOST_TEST((get.role == Role::anonymous));
  BOOST_TEST(refused_with(api::authorize(request("GET", false), k_no_tokens, false)) == 403);
  BOOST_TEST(refused_with(api::authorize(request("POST", true), k_no_tokens, false)) == 403);
  // /health is public, from anywhere.
  BOOST_TEST(!api::authorize(request("GET", false), k_no_tokens, true).refusal);
}

BOOST_AUTO_TEST_CASE(with_tokens_a_request_needs_one) {
  auto missing = api::authorize(request("GET", true), k_tokens, false);
  BOOST_TEST(refused_with(missing) == 401);
  bool challenged = false;
  for (const auto& [name, value] : missing.refusal->headers) challenged |= name == "WWW-Authenticate";
  BOOST_TEST(challenged);
  BOOST_TEST(nlohmann::json::parse(missing.refusal->body)["detail"] ==
             "this request needs a token: send 'Authorization: Bearer TOKEN' with the secret OOS_API_TOKEN or "
             "OOS_API_READONLY_TOKEN");
  auto wrong = api::authorize(request("GET", true, {{"authorization", "Bearer wrong"}}), k_tokens, false);
  BOOST_REQUIRE(refused_with(wrong) == 401);
  BOOST_TEST(nlohmann::json::parse(wrong.refusal->body)["detail"] ==
             "the bearer token is neither OOS_API_TOKEN nor OOS_API_READONLY_TOKEN: send one of them (oos-api reads "
             "them when it starts)");
  BOOST_TEST(refused_with(api::authorize(request("GET", true, {{"authorization", "Basic YTpi"}}), k_tokens, false)) ==
             401);
  BOOST_TEST(!api::authorize(request("GET", false), k_tokens, true).refusal);
}

BOOST_AUTO_TEST_CASE(the_readonly_token_reads_and_the_admin_token_writes) {
  auto reader =
      api::authorize(request("GET", false, {{"authorization", "Bearer reader-token-123456"}}), k_tokens, false);
  BOOST_TEST(!reader.refusal);
  BOOST_TEST((reader.role == Role::readonly));
  BOOST_TEST(refused_with(api::authorize(request("POST", false, {{"authorization", "Bearer reader-token-123456"}}),
                                         k_tokens, false)) == 403);
  auto admin =
      api::authorize(request("POST", false, {{"authorization", "bearer admin-token-123456"}}), k_tokens, false);
  BOOST_TEST(!admin.refusal);
  BOOST_TEST((admin.role == Role::admin));
  BOOST_TEST(api::to_string(Role::admin) == "admin");
}

BOOST_AUTO_TEST_CASE(a_host_outside_the_allowlist_is_421) {
  BOOST_TEST(!api::authorize(request("GET", true, {{"host", "127.0.0.1:8765"}}), k_no_tokens, false).refusal);
  BOOST_TEST(!api::authorize(request("GET", true, {{"host", "LOCALHOST:8765"}}), k_no_tokens, false).refusal);
  BOOST_TEST(!api::authorize(request("GET", true, {{"host", "[::1]:8765"}}), k_no_tokens, false).refusal);
  auto rebound = api::authorize(request("GET", true, {{"host", "evil.example:8765"}}), k_no_tokens, true);
  BOOST_TEST(refused_with(rebound) == 421);
  BOOST_TEST(nlohmann::json::parse(rebound.refusal->body)["detail"] ==
             "host 'evil.example' is not in the allowed hosts: use an address oos-api serves");
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

BOOST_AUTO_TEST_SUITE_END()
