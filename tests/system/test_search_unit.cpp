// The built-in `search` type inside oos-worker@.service's sandbox, with the keys given through
// LoadCredential= as the README shows, and oos-search run by hand through systemd-run the same way. The
// provider is oos-fake-search-server on the container's own loopback (its network is private).
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "system/oos_container.hpp"

using oos::test::OosContainer;
using oos::test::wait_until;
using namespace std::chrono_literals;

namespace {

const std::string k_worker = "oos-worker@1.service";
const std::string k_key = "AIzaSYSTEM-test-key-0123456789";
const std::string k_engine = "cx-system-test-77";
const std::string k_credentials =
    "LoadCredential=GOOGLE_SEARCH_API_KEY:/etc/oos/credentials/GOOGLE_SEARCH_API_KEY\n"
    "LoadCredential=GOOGLE_SEARCH_ENGINE_ID:/etc/oos/credentials/GOOGLE_SEARCH_ENGINE_ID\n";

std::string search_config() {
  return oos::test::system_test_config() +
         "\n[search]\nproviders = [\"google\"]\n\n[search.google]\nendpoint = "
         "\"http://127.0.0.1:18080/customsearch/v1\"\n";
}

// Starts the fake provider inside and writes the keys where the credentials drop-in reads them.
void prepare(OosContainer& c) {
  c.must("systemd-run --unit=fake-search -p Type=exec /opt/oos-build/tests/oos-fake-search-server 18080");
  BOOST_TEST_REQUIRE(
      wait_until([&] { return c.sh("journalctl -u fake-search").out.find("listening on") != std::string::npos; }, 10s),
      c.sh("systemctl status fake-search").out);
  c.must("mkdir -p /etc/oos/credentials && chmod 700 /etc/oos/credentials && printf '%s' '" + k_key +
         "' >/etc/oos/credentials/GOOGLE_SEARCH_API_KEY && printf '%s' '" + k_engine +
         "' >/etc/oos/credentials/GOOGLE_SEARCH_ENGINE_ID");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(search_unit)

BOOST_AUTO_TEST_CASE(a_search_task_runs_in_the_worker_sandbox_with_credentials) {
  OosContainer c("search", search_config());
  prepare(c);
  c.drop_in("oos-worker@.service", "credentials", "[Service]\n" + k_credentials);
  c.must("systemctl start " + k_worker);
  auto id = c.enqueue("search", R"({"query":"inside the sandbox","num":3})");
  BOOST_TEST_REQUIRE(wait_until([&] { return c.task_state(id) == "succeeded"; }, 20s),
                     c.task_state(id) + "\n" + c.sh("journalctl --no-pager -u " + k_worker).out);
  auto shown = nlohmann::json::parse(c.queue("show " + std::to_string(id) + " --json").out);
  auto result = nlohmann::json::parse(shown["result"].get<std::string>());
  BOOST_TEST(result["provider"] == "google");
  BOOST_TEST(result["results"].size() == 3u);

  auto served = c.sh("journalctl --no-pager -u fake-search").out;
  BOOST_TEST(served.find("google /customsearch/v1?key=" + k_key + "&cx=" + k_engine + "&q=inside%20the%20sandbox") !=
                 std::string::npos,
             served);
  auto journal = c.sh("journalctl --no-pager -u " + k_worker).out;
  BOOST_TEST(journal.find(k_key) == std::string::npos, journal);
}

BOOST_AUTO_TEST_CASE(oos_search_runs_by_hand_through_systemd_run_with_credentials) {
  OosContainer c("search-cli", search_config());
  prepare(c);
  std::string load;
  for (std::size_t at = 0; at < k_credentials.size();) {
    auto end = k_credentials.find('\n', at);
    load += " -p " + k_credentials.substr(at, end - at);
    at = end + 1;
  }
  auto r = c.sh(
      "systemd-run --quiet --pipe --wait --collect -p User=oos -p StateDirectory=oos -E "
      "OOS_CONFIG=/etc/oos/oos.toml" +
      load + " /opt/oos/bin/oos-search --json by hand");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out << r.err);
  auto doc = nlohmann::json::parse(r.out);
  BOOST_TEST(doc["provider"] == "google");
  BOOST_TEST(doc["query"] == "by hand");
  BOOST_TEST(r.out.find(k_key) == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
