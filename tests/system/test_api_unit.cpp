// oos-api.socket and oos-api.service under a real systemd: oos.target listens on 127.0.0.1:8765, the first
// connection starts the service, which exits 0 after api.idle_exit while the socket keeps listening, and the
// next connection starts it again; the tokens come through the credentials drop-in of units/examples/; a bad
// config fails the socket after systemd's start limit, and the documented reset serves again.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

#include "system/oos_container.hpp"

using oos::test::OosContainer;
using oos::test::wait_until;
using namespace std::chrono_literals;

namespace {

const std::string k_socket = "oos-api.socket";
const std::string k_service = "oos-api.service";
const std::string k_token = "system-test-admin-token-0123456789";

std::string api_config() {
  return oos::test::system_test_config() + "\n[api]\nidle_exit = \"2s\"\n";
}

// The HTTP status of GET `path` on the socket's address, from inside the container ("000": no reply).
std::string get_status(OosContainer& c, const std::string& path, const std::string& header = "") {
  auto r = c.sh("curl -sS -o /dev/null -w '%{http_code}' --max-time 10 " +
                (header.empty() ? std::string() : "-H '" + header + "' ") + "http://127.0.0.1:8765" + path);
  return r.out;
}

std::string journal(OosContainer& c) {
  return c.sh("journalctl --no-pager -u " + k_socket + " -u " + k_service).out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_unit)

BOOST_AUTO_TEST_CASE(the_socket_starts_the_api_which_exits_when_idle_and_starts_again) {
  OosContainer c("api", api_config());
  c.must("systemctl start oos.target");
  BOOST_TEST_REQUIRE(c.wait_for_property(k_socket, "SubState", "listening", 10s), journal(c));
  BOOST_TEST(c.property(k_service, "ActiveState") == "inactive");  // nothing runs before a connection

  BOOST_TEST_REQUIRE(get_status(c, "/api/v1/queue/status") == "200", journal(c));
  auto first_start = c.property(k_service, "ExecMainStartTimestampMonotonic");
  BOOST_TEST(first_start != "0");
  BOOST_TEST(c.property(k_service, "User") == "oos");

  // api.idle_exit is 2 s: the service exits 0 on its own and the socket stays.
  BOOST_TEST_REQUIRE(c.wait_for_property(k_service, "ActiveState", "inactive", 20s), journal(c));
  BOOST_TEST(c.property(k_service, "Result") == "success");
  BOOST_TEST(c.property(k_service, "ExecMainStatus") == "0");
  BOOST_TEST(c.property(k_socket, "SubState") == "listening");
  BOOST_TEST(journal(c).find("without a connection (api.idle_exit)") != std::string::npos, journal(c));

  BOOST_TEST(get_status(c, "/api/v1/queue/status") == "200", journal(c));
  BOOST_TEST(c.property(k_service, "ExecMainStartTimestampMonotonic") != first_start);  // started again
}

BOOST_AUTO_TEST_CASE(the_credentials_drop_in_gives_the_api_its_token) {
  OosContainer c("api-token", api_config());
  c.must("mkdir -p /etc/oos/credentials && chmod 700 /etc/oos/credentials && printf '%s' '" + k_token +
         "' >/etc/oos/credentials/OOS_API_TOKEN");
  // The shipped example, less the read-only token this test does not set (a missing file fails the start).
  c.must("mkdir -p /etc/systemd/system/" + k_service + ".d && grep -v READONLY /opt/oos-src/units/examples/" +
         k_service + ".d/credentials.conf >/etc/systemd/system/" + k_service +
         ".d/credentials.conf && systemctl daemon-reload");
  c.must("systemctl start " + k_socket);
  BOOST_TEST(get_status(c, "/api/v1/queue/status") == "401", journal(c));
  BOOST_TEST(get_status(c, "/api/v1/queue/status", "Authorization: Bearer " + k_token) == "200", journal(c));
  BOOST_TEST(journal(c).find(k_token) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_bad_config_fails_the_socket_after_a_few_starts_then_a_fixed_one_serves) {
  OosContainer c("api-bad", api_config());
  c.must("printf '[api]\\nno_such_key = 1\\n' > /etc/oos/oos.toml");
  c.must("systemctl start " + k_socket);
  BOOST_TEST(get_status(c, "/api/v1/queue/status") != "200");
  // The connection nobody accepted triggers the service again at once, until the start limit (5 in 10 s).
  BOOST_TEST_REQUIRE(c.wait_for_property(k_socket, "ActiveState", "failed", 10s), journal(c));
  BOOST_TEST(c.property(k_socket, "Result") == "service-start-limit-hit");
  BOOST_TEST(c.property(k_service, "ExecMainStatus") == "78");
  BOOST_TEST(journal(c).find("unknown key 'api.no_such_key'") != std::string::npos, journal(c));

  // What docs/reference.md section 15 tells the operator to do.
  c.must("cat > /etc/oos/oos.toml", api_config());
  c.must("systemctl reset-failed " + k_socket + " " + k_service + " && systemctl start " + k_socket);
  BOOST_TEST(get_status(c, "/api/v1/queue/status") == "200", journal(c));
}

BOOST_AUTO_TEST_SUITE_END()
