// The quota ledger on SQLite: the `rate_limits` table of the state directory's oos.db. Each acquire() is one write
// transaction (BEGIN IMMEDIATE), so the processes of the host are serialised on the database's write lock.
#pragma once

#include "db/database.hpp"
#include "search/ledger.hpp"

namespace oos::search {

class SqliteRateLimitStore final : public RateLimitStore {
 public:
  explicit SqliteRateLimitStore(db::Database& db) : m_db(db) {}

  policy::QuotaDecision acquire(const std::string& provider, const policy::QuotaSettings& settings,
                                policy::QuotaZone zone, const util::Clock& clock) override;
  void mark_exhausted(const std::string& provider, const policy::QuotaSettings& settings, policy::QuotaZone zone,
                      const util::Clock& clock) override;
  std::optional<policy::Ledger> load(const std::string& provider) override;

 private:
  void save(const std::string& provider, const policy::Ledger& ledger, util::UnixMillis now);

  db::Database& m_db;
};

}  // namespace oos::search
