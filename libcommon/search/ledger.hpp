// The `rate_limits` table: each search provider's quota ledger and pacing bucket, shared by every process on
// the host. Each acquire() is one write transaction (BEGIN IMMEDIATE), so concurrent processes are serialised
// on the row and never spend more than the quota between them.
#pragma once

#include <optional>
#include <string>

#include "db/database.hpp"
#include "policy/quota.hpp"
#include "util/time.hpp"

namespace oos::search {

class RateLimitStore {
 public:
  explicit RateLimitStore(db::Database& db) : m_db(db) {}

  // Reads the provider's ledger (a fresh one when it has none), applies policy::admit_request and stores the
  // result: an allowed request is counted before it is sent. The time is read from `clock` once the write lock
  // is held, so a wait for the lock never refills the bucket from a stale time.
  policy::QuotaDecision acquire(const std::string& provider, const policy::QuotaSettings& settings,
                                policy::QuotaZone zone, const util::Clock& clock);

  // Marks the provider's current day (at `clock`'s time under the write lock) as spent, when the provider said
  // so before our count did.
  void mark_exhausted(const std::string& provider, const policy::QuotaSettings& settings, policy::QuotaZone zone,
                      const util::Clock& clock);

  // The stored ledger; nullopt when the provider was never asked.
  std::optional<policy::Ledger> load(const std::string& provider);

  // The provider's quota day as `oos-search quota` and `oos-health` show it.
  struct QuotaUse {
    bool asked = false;     // the provider has a ledger at all
    std::int64_t used = 0;  // requests counted today
    bool spent = false;     // used up, or the provider said so
    util::UnixMillis resets_at = 0;
  };
  QuotaUse today(const std::string& provider, std::int64_t daily_quota, util::UnixMillis now);

 private:
  void save(const std::string& provider, const policy::Ledger& ledger, util::UnixMillis now);

  db::Database& m_db;
};

}  // namespace oos::search
