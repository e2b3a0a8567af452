// The search client's state in one database (docs/reference.md section 17): the quota ledger, the cache and the
// providers' breakers (kind "search"), and the transaction in which a breaker is read and changed. Handed out by
// store::Backend::search(); two implementations: SqliteSearchStore (search/sqlite_search_store.hpp) and
// pg::PgSearchStore (pg/pg_search_store.hpp).
#pragma once

#include <functional>
#include <string_view>

#include "breaker/breaker_store.hpp"
#include "search/cache.hpp"
#include "search/ledger.hpp"

namespace oos::search {

// The breaker kind of search providers.
inline constexpr std::string_view k_breaker_kind = "search";

class SearchStore {
 public:
  virtual ~SearchStore() = default;

  virtual RateLimitStore& ledger() = 0;
  virtual SearchCache& cache() = 0;
  virtual breaker::BreakerStore& breakers() = 0;

  // Runs `change` in one write transaction in which it reads and writes the breaker of search provider `provider`
  // with no other process changing that breaker in between (SQLite: BEGIN IMMEDIATE; PostgreSQL: the breaker's
  // advisory lock), and commits when `change` returns; an exception rolls it back and passes through.
  virtual void change_breaker(std::string_view provider, const std::function<void()>& change) = 0;
};

}  // namespace oos::search
