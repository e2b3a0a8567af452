// The search store contract (search_store_cases.hpp: the quota ledger, the cache, the breaker transaction) on
// PostgreSQL: a fresh, migrated schema of the throwaway test cluster (support/pg_cluster) per case, each connection a
// pg::PgBackend of its own.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "pg/connection.hpp"
#include "pg/pg_backend.hpp"
#include "pg/values.hpp"
#include "search_store_contract.hpp"
#include "support/pg_cluster.hpp"

using namespace oos;
using namespace oos::test;

// A named namespace: the cases derive from the fixture (-Wsubobject-linkage).
namespace pg_search {

class PgSearchUnderTest final : public SearchBackendUnderTest {
 public:
  explicit PgSearchUnderTest(SearchStoreFixture& f) : m_f(f), m_schema(PgCluster::instance().fresh_schema()) {}

  std::unique_ptr<store::Backend> connect() override {
    return std::make_unique<pg::PgBackend>(m_schema.conninfo(), std::nullopt, m_f.config, m_f.clock, *m_f.logger);
  }
  void write_after_waiting_for_the_ledger(SharedClock& shared, std::int64_t waited_ms, const std::string& provider,
                                          const std::function<void()>& write) override {
    pg::Connection holder(m_schema.conninfo());
    pg::Transaction tx(holder);
    auto held = holder.exec_params("SELECT used FROM rate_limits WHERE provider = $1 FOR UPDATE", {provider});
    BOOST_TEST_REQUIRE(held.rows() == 1);
    std::thread other([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // `write` is waiting by now
      shared.ms += waited_ms;
      tx.commit();
    });
    write();
    other.join();
  }

 private:
  SearchStoreFixture& m_f;
  PgSchema m_schema;
};

struct SearchFixture : SearchStoreFixture {
  SearchFixture()
      : SearchStoreFixture([](SearchStoreFixture& f) -> std::unique_ptr<SearchBackendUnderTest> {
          return std::make_unique<PgSearchUnderTest>(f);
        }) {}
};

}  // namespace pg_search

using SearchFixture = pg_search::SearchFixture;

BOOST_AUTO_TEST_SUITE(pg_ledger)

#include "search_store_cases.hpp"

// PostgreSQL only: its text type refuses what is not UTF-8 and libpq cuts a parameter at a NUL, where SQLite stores
// any bytes. Such a query is not cached (no failure, no entry under the key cut short).
BOOST_FIXTURE_TEST_CASE(a_query_that_is_not_utf8_or_holds_a_nul_is_not_cached, SearchFixture) {
  const std::string with_nul("caf\0e", 5);
  for (const std::string& text :
       {std::string("caf\xe9"), with_nul, std::string("\xed\xa0\x80"), std::string("\xc0\xaf")}) {
    cache.store({text, 3, 1}, "google", {}, clock.now(), util::Millis(3'600'000));
    BOOST_TEST(!cache.find({text, 3, 1}).has_value());
  }
  BOOST_TEST(!cache.find({"caf", 3, 1}).has_value());
  cache.store({"café ☕ 𝄞", 3, 1}, "google", {}, clock.now(), util::Millis(3'600'000));
  BOOST_TEST(cache.find({"café ☕ 𝄞", 3, 1}).has_value());
}

BOOST_AUTO_TEST_CASE(is_storable_text_takes_utf8_without_nul_only) {
  BOOST_TEST(pg::is_storable_text(""));
  BOOST_TEST(pg::is_storable_text("plain ascii"));
  BOOST_TEST(pg::is_storable_text("\xc3\xa9\xe2\x98\x95\xf0\x9d\x84\x9e\xf4\x8f\xbf\xbf"));  // é ☕ 𝄞 U+10FFFF
  for (const std::string& bad :
       {std::string("a\0b", 3), std::string("\xe9"), std::string("\xc0\xaf"), std::string("\xe0\x80\xaf"),
        std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80"), std::string("\xf5\x80\x80\x80"),
        std::string("\xe2\x98"), std::string("\x80")})
    BOOST_TEST(!pg::is_storable_text(bad));
}

BOOST_AUTO_TEST_SUITE_END()
