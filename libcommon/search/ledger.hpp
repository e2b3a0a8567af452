// The search quota ledger: each search provider's quota day and pacing bucket (the `rate_limits` table), shared by
// every process that uses the database. An allowed request is counted before it is sent, and two processes, on one
// host or on two, never both take the last request of a quota. Two implementations: SqliteRateLimitStore
// (search/sqlite_ledger.hpp) and pg::PgRateLimitStore (pg/pg_search_store.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "policy/quota.hpp"
#include "util/time.hpp"

namespace oos::search {

class RateLimitStore {
 public:
  virtual ~RateLimitStore() = default;

  // Reads the provider's ledger (a fresh one when it has none), applies policy::admit_request and stores the
  // result, in one transaction that holds the provider's ledger against every other writer from the read to the
  // commit: an allowed request is counted before it is sent. The time is read from `clock` once that hold is taken,
  // so a wait for it never refills the bucket from a stale time.
  virtual policy::QuotaDecision acquire(const std::string& provider, const policy::QuotaSettings& settings,
                                        policy::QuotaZone zone, const util::Clock& clock) = 0;

  // Marks the provider's current day (at `clock`'s time under the same hold) as spent, when the provider said
  // so before our count did.
  virtual void mark_exhausted(const std::string& provider, const policy::QuotaSettings& settings,
                              policy::QuotaZone zone, const util::Clock& clock) = 0;

  // The stored ledger; nullopt when the provider was never asked.
  virtual std::optional<policy::Ledger> load(const std::string& provider) = 0;

  // The provider's quota day as `oos-search quota` and `oos-health` show it.
  struct QuotaUse {
    bool asked = false;     // the provider has a ledger at all
    std::int64_t used = 0;  // requests counted today
    bool spent = false;     // used up, or the provider said so
    util::UnixMillis resets_at = 0;
  };
  // What load() says of the provider's day at `now`.
  QuotaUse today(const std::string& provider, std::int64_t daily_quota, util::UnixMillis now);
};

// What mark_exhausted() stores: the `stored` ledger (a fresh one when there is none or its day is over) with
// today spent.
policy::Ledger spent_today(const std::optional<policy::Ledger>& stored, const policy::QuotaSettings& settings,
                           util::UnixMillis now, policy::QuotaZone zone);

}  // namespace oos::search
