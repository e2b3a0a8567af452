// The store contract (store_contract_cases.hpp) on SQLite: a fresh state database in a temporary directory per case.
#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "db/database.hpp"
#include "error.hpp"
#include "store/sqlite_backend.hpp"
#include "store_contract.hpp"
#include "support/printers.hpp"

using namespace oos;
using namespace oos::queue;
using namespace oos::test;

// A named namespace: the cases, in another file, derive from the fixture (-Wsubobject-linkage).
namespace sqlite_contract {

class SqliteUnderTest final : public BackendUnderTest {
 public:
  explicit SqliteUnderTest(StoreContractFixture& f) : m_f(f), m_backend(open(), f.config, f.clock, *f.logger) {}

  store::Backend& backend() override { return m_backend; }
  std::unique_ptr<store::Backend> connect() override {
    return std::make_unique<store::SqliteBackend>(open(), m_f.config, m_f.clock, *m_f.logger);
  }
  std::int64_t sql_int(const std::string& sql) override { return m_backend.sqlite()->raw().execAndGet(sql).getInt64(); }
  std::string sql_text(const std::string& sql) override {
    return m_backend.sqlite()->raw().execAndGet(sql).getString();
  }
  void sql_exec(const std::string& sql) override { m_backend.sqlite()->raw().exec(sql); }

 private:
  std::unique_ptr<db::Database> open() {
    return std::make_unique<db::Database>(
        db::OpenOptions{m_f.dir / "oos.db", config::Synchronous::full, util::Millis(2000)});
  }

  StoreContractFixture& m_f;
  store::SqliteBackend m_backend;
};

struct ContractFixture : StoreContractFixture {
  ContractFixture()
      : StoreContractFixture([](StoreContractFixture& f) -> std::unique_ptr<BackendUnderTest> {
          return std::make_unique<SqliteUnderTest>(f);
        }) {}
};

}  // namespace sqlite_contract

using ContractFixture = sqlite_contract::ContractFixture;

BOOST_AUTO_TEST_SUITE(store_contract_sqlite)

#include "store_contract_cases.hpp"

BOOST_AUTO_TEST_SUITE_END()
