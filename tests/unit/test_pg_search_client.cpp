// search/client on PostgreSQL: what the client does with the server's own failures, in process, over a fake
// http_get answering with tests/fixtures/search's bodies and a ManualClock. The rest of the client's behaviour is
// the backend's stores' (unit.pg_ledger) and unit.search_client's; the wire and processes are cli.pg_search's.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "log.hpp"
#include "pg/connection.hpp"
#include "pg/pg_backend.hpp"
#include "pg/values.hpp"
#include "search/client.hpp"
#include "support/log_file.hpp"
#include "support/pg_cluster.hpp"
#include "support/temp_dir.hpp"
#include "util/files.hpp"
#include "util/time.hpp"

using namespace oos;
using oos::test::PgCluster;
using oos::test::TempDir;

BOOST_AUTO_TEST_SUITE(pg_search_client)

namespace {

struct PgClientFixture {
  TempDir dir;
  test::PgSchema schema = PgCluster::instance().fresh_schema();
  config::Config config;
  util::ManualClock clock{1'796'558'400'000};
  std::unique_ptr<log::Logger> logger;
  std::unique_ptr<pg::PgBackend> backend;
  secrets::SecretStore secrets{dir / "credentials"};
  std::function<void()> on_request;
  std::vector<std::string> urls;  // of the requests sent
  std::unique_ptr<search::SearchClient> client;

  PgClientFixture() {
    config.search.providers = {"google"};
    config.search.provider["google"].endpoint = "http://google.test/customsearch/v1";
    config::LogSettings log;
    log.file = (dir / "search.log").string();
    logger = std::make_unique<log::Logger>("oos-search", config::LogLevel::info, config::LogFormat::json, log);
    backend = std::make_unique<pg::PgBackend>(schema.conninfo(), std::nullopt, config, clock, *logger);
    std::filesystem::create_directories(dir / "credentials");
    test::write_file(dir / "credentials" / "GOOGLE_SEARCH_API_KEY", "AIzaFAKE-google-key-0123456789");
    test::write_file(dir / "credentials" / "GOOGLE_SEARCH_ENGINE_ID", "fake-engine-id-4242");
    client = std::make_unique<search::SearchClient>(
        backend->search(), backend->key_rings(), config, secrets, clock, *logger, [this](const search::HttpRequest& r) {
          urls.push_back(r.url);
          if (on_request) on_request();
          auto body =
              util::read_file(std::filesystem::path(OOS_SOURCE_DIR) / "tests/fixtures/search/google_results.json");
          return std::expected<search::HttpResponse, search::HttpError>(search::HttpResponse{200, *body, std::nullopt});
        });
  }

  search::SearchAnswer find(const std::string& text) {
    search::SearchRequest request;
    request.query = {text, 3, 1};
    return client->search(request);
  }
  std::int64_t pg_int(const std::string& sql) { return pg::int_at(backend->connection().exec_params(sql), 0, 0); }
  std::string log_text() const { return test::file_text(dir / "search.log"); }
};

}  // namespace

// Another host holds the breaker's lock and the cache table while the request is out, past the connection's
// lock_timeout (75 from the server): the breaker's success and the cache entry are lost, with a warning each, and
// the answer is returned, as on SQLite with a database busy past db.busy_timeout.
BOOST_FIXTURE_TEST_CASE(a_lock_timeout_after_the_answer_costs_the_cache_entry_not_the_answer, PgClientFixture) {
  backend->connection().exec_params("SET lock_timeout = '200ms'");
  pg::Connection other(schema.conninfo());
  std::optional<pg::Transaction> held;
  on_request = [&] {
    held.emplace(other);
    other.exec_params("SELECT pg_advisory_xact_lock(1330598722, hashtext('search/google'))");  // "OOSB"
    other.exec_params("LOCK TABLE search_cache IN EXCLUSIVE MODE");
  };
  auto result = find("q");
  held.reset();
  BOOST_TEST(result.provider == "google");
  BOOST_TEST(result.page.results.size() == 3u);
  BOOST_TEST(pg_int("SELECT count(*) FROM search_cache") == 0);
  auto log = log_text();
  BOOST_TEST(log.find("search: the answer from google was not cached: ") != std::string::npos, log);
  BOOST_TEST(log.find("search: provider google's breaker not told of its answer: ") != std::string::npos, log);
  BOOST_TEST(log.find("SQLSTATE 55P03), ignoring") != std::string::npos, log);

  on_request = nullptr;  // the locks gone, the next search caches as before
  BOOST_TEST(find("q").cached == false);
  BOOST_TEST(find("q").cached == true);
}

// GOOGLE_SEARCH_API_KEYS on PostgreSQL: the keys are taken least recently used through PgKeyRingStore, known to the
// server by fingerprint only.
BOOST_FIXTURE_TEST_CASE(a_google_key_ring_is_shared_through_the_server, PgClientFixture) {
  test::write_file(dir / "credentials" / "GOOGLE_SEARCH_API_KEYS", "test-key-a,test-key-b");
  BOOST_TEST(find("first").provider == "google");
  BOOST_TEST(find("second").provider == "google");
  BOOST_TEST_REQUIRE(urls.size() == 2u);
  BOOST_TEST(urls[0].find("?key=test-key-a&") != std::string::npos, urls[0]);
  BOOST_TEST(urls[1].find("?key=test-key-b&") != std::string::npos, urls[1]);
  BOOST_TEST(pg_int("SELECT count(*) FROM key_ring_keys WHERE ring = 'GOOGLE_SEARCH_API_KEYS' AND "
                    "last_used_at IS NOT NULL AND strpos(fingerprint, 'test-key') = 0") == 2);
}

BOOST_AUTO_TEST_SUITE_END()
