// The search client's state on SQLite: the ledger, cache and breakers of the state directory's oos.db.
#pragma once

#include "breaker/sqlite_breaker_store.hpp"
#include "db/database.hpp"
#include "search/search_store.hpp"
#include "search/sqlite_cache.hpp"
#include "search/sqlite_ledger.hpp"

namespace oos::search {

class SqliteSearchStore final : public SearchStore {
 public:
  SqliteSearchStore(db::Database& db, const config::BreakerSettings& settings, log::Logger& logger)
      : m_db(db), m_ledger(db), m_cache(db), m_breakers(db, settings, logger) {}

  RateLimitStore& ledger() override { return m_ledger; }
  SearchCache& cache() override { return m_cache; }
  breaker::BreakerStore& breakers() override { return m_breakers; }
  void change_breaker(std::string_view, const std::function<void()>& change) override {
    db::WriteTransaction tx(m_db);
    change();
    tx.commit();
  }

 private:
  db::Database& m_db;
  SqliteRateLimitStore m_ledger;
  SqliteSearchCache m_cache;
  breaker::SqliteBreakerStore m_breakers;
};

}  // namespace oos::search
