// The search store contract (search_store_cases.hpp: the quota ledger, the cache, the breaker transaction) on
// SQLite: a fresh state database in a temporary directory per case.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "db/database.hpp"
#include "search_store_contract.hpp"
#include "store/sqlite_backend.hpp"

using namespace oos;
using namespace oos::test;

// A named namespace: the cases derive from the fixture (-Wsubobject-linkage).
namespace sqlite_search {

class SqliteSearchUnderTest final : public SearchBackendUnderTest {
 public:
  explicit SqliteSearchUnderTest(SearchStoreFixture& f) : m_f(f) {}

  std::unique_ptr<store::Backend> connect() override {
    return std::make_unique<store::SqliteBackend>(open(), m_f.config, m_f.clock, *m_f.logger);
  }
  void write_after_waiting_for_the_ledger(SharedClock& shared, std::int64_t waited_ms, const std::string&,
                                          const std::function<void()>& write) override {
    auto holder = open();
    holder->raw().exec("BEGIN IMMEDIATE");
    std::thread other([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // `write` is waiting by now
      shared.ms += waited_ms;
      holder->raw().exec("COMMIT");
    });
    write();
    other.join();
  }

 private:
  std::unique_ptr<db::Database> open() {
    return std::make_unique<db::Database>(
        db::OpenOptions{m_f.dir / "oos.db", config::Synchronous::full, util::Millis(5000)});
  }

  SearchStoreFixture& m_f;
};

struct SearchFixture : SearchStoreFixture {
  SearchFixture()
      : SearchStoreFixture([](SearchStoreFixture& f) -> std::unique_ptr<SearchBackendUnderTest> {
          return std::make_unique<SqliteSearchUnderTest>(f);
        }) {}
};

}  // namespace sqlite_search

using SearchFixture = sqlite_search::SearchFixture;

BOOST_AUTO_TEST_SUITE(ledger)

#include "search_store_cases.hpp"

BOOST_AUTO_TEST_SUITE_END()
