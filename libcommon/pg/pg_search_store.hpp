// The search client's state on PostgreSQL (docs/reference.md section 19): the `rate_limits` and `search_cache`
// tables of pg/schema and the providers' breakers, shared by the processes of every host. Where SQLite's single
// writer serialises the ledger's read and the write that follows, acquire() and mark_exhausted() hold the
// provider's row lock (SELECT ... FOR UPDATE) from the read to the commit: two hosts never both take the last request
// of a quota, and the one that waited reads what the other committed.
#pragma once

#include "breaker/breaker_store.hpp"
#include "log.hpp"
#include "pg/connection.hpp"
#include "pg/pg_breaker_store.hpp"
#include "search/search_store.hpp"

namespace oos::pg {

class PgRateLimitStore final : public search::RateLimitStore {
 public:
  explicit PgRateLimitStore(Connection& connection) : m_connection(connection) {}

  policy::QuotaDecision acquire(const std::string& provider, const policy::QuotaSettings& settings,
                                policy::QuotaZone zone, const util::Clock& clock) override;
  void mark_exhausted(const std::string& provider, const policy::QuotaSettings& settings, policy::QuotaZone zone,
                      const util::Clock& clock) override;
  std::optional<policy::Ledger> load(const std::string& provider) override;

 private:
  // Inside the caller's transaction: the provider's row, locked until its commit; a fresh ledger (at `clock`'s
  // time) is inserted first when the provider has none, so that there is a row to lock.
  policy::Ledger lock(const std::string& provider, const policy::QuotaSettings& settings, policy::QuotaZone zone,
                      const util::Clock& clock);
  void save(const std::string& provider, const policy::Ledger& ledger, util::UnixMillis now);

  Connection& m_connection;
};

// The cache; a query whose key PostgreSQL's text type refuses (not UTF-8, or with a NUL) is never stored, and so
// never found: it is answered by the providers each time.
class PgSearchCache final : public search::SearchCache {
 public:
  explicit PgSearchCache(Connection& connection) : m_connection(connection) {}

  std::optional<search::CachedPage> find(const search::Query& query) override;
  void store(const search::Query& query, const std::string& provider, const search::Page& page, util::UnixMillis now,
             util::Millis ttl) override;

 private:
  Connection& m_connection;
};

class PgSearchStore final : public search::SearchStore {
 public:
  PgSearchStore(Connection& connection, const config::BreakerSettings& settings, log::Logger& logger)
      : m_connection(connection), m_ledger(connection), m_cache(connection), m_breakers(connection, settings, logger) {}

  search::RateLimitStore& ledger() override { return m_ledger; }
  search::SearchCache& cache() override { return m_cache; }
  breaker::BreakerStore& breakers() override { return m_breakers; }
  // A transaction holding the breaker's advisory lock (PgBreakerStore::lock) from its read to the commit.
  void change_breaker(std::string_view provider, const std::function<void()>& change) override;

 private:
  Connection& m_connection;
  PgRateLimitStore m_ledger;
  PgSearchCache m_cache;
  PgBreakerStore m_breakers;
};

}  // namespace oos::pg
