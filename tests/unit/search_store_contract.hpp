// The search store contract (issue 16): one suite of cases for the quota ledger, the cache and the breaker
// transaction, written against search::SearchStore only, run on SQLite (unit.ledger) and on PostgreSQL
// (unit.pg_ledger). The cases are in search_store_cases.hpp; each suite's file gives the fixture a fresh database of
// its backend.
#pragma once

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "config.hpp"
#include "log.hpp"
#include "search/search_store.hpp"
#include "store/backend.hpp"
#include "store_fixture.hpp"
#include "support/temp_dir.hpp"
#include "util/time.hpp"

namespace oos::test {

// One database of the backend under test.
class SearchBackendUnderTest {
 public:
  virtual ~SearchBackendUnderTest() = default;
  // A connection of its own to the database, as another process or host has.
  virtual std::unique_ptr<store::Backend> connect() = 0;
  // Runs `write` while another connection holds the provider's ledger (SQLite: the write lock; PostgreSQL: the
  // row lock of its `rate_limits` row, which must exist); that connection moves `shared` by `waited_ms` and lets go
  // 100 ms after `write` started waiting.
  virtual void write_after_waiting_for_the_ledger(SharedClock& shared, std::int64_t waited_ms,
                                                  const std::string& provider, const std::function<void()>& write) = 0;
};

// 2026-12-06T12:00:00Z.
inline constexpr util::UnixMillis k_search_noon = 1'796'558'400'000;

struct SearchStoreFixture {
  using Open = std::unique_ptr<SearchBackendUnderTest> (*)(SearchStoreFixture&);

  explicit SearchStoreFixture(Open open) : under_test(open(*this)) {}

  TempDir dir;
  config::Config config;
  util::ManualClock clock{k_search_noon};
  std::unique_ptr<log::Logger> logger = log::Logger::discard();
  std::unique_ptr<SearchBackendUnderTest> under_test;
  std::unique_ptr<store::Backend> backend = under_test->connect();
  search::SearchStore& store = backend->search();
  search::RateLimitStore& ledger = store.ledger();
  search::SearchCache& cache = store.cache();

  policy::QuotaVerdict acquire(const std::string& provider, const policy::QuotaSettings& settings) {
    return ledger.acquire(provider, settings, policy::QuotaZone::utc, clock).verdict;
  }
};

}  // namespace oos::test
