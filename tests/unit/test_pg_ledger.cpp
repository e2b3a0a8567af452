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

BOOST_AUTO_TEST_SUITE_END()
