// A search provider's daily quota and pacing as pure functions (docs/reference.md section 17): the quota
// day in the provider's reset zone, and whether one more request may go out now. The ledger itself is a row
// of `rate_limits` (search/ledger.hpp), changed only inside a write transaction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/duration.hpp"
#include "util/time.hpp"

namespace oos::policy {

// Where a provider's day starts: Google resets its quota at midnight America/Los_Angeles (US Pacific time,
// daylight saving from the second Sunday of March to the first Sunday of November, as since 2007); the
// others at midnight UTC.
enum class QuotaZone { utc, us_pacific };

// The zone of a provider's quota day: us_pacific for "google", utc otherwise.
QuotaZone quota_zone(std::string_view provider);

// The UTC offset of US Pacific time at `now`: -8 h, or -7 h in daylight saving time.
util::Millis us_pacific_offset(util::UnixMillis now);

// "2026-11-28": the quota day that `now` falls in.
std::string quota_day(util::UnixMillis now, QuotaZone zone);

// When the quota day after the one `now` falls in begins.
util::UnixMillis next_quota_reset(util::UnixMillis now, QuotaZone zone);

struct QuotaSettings {
  std::int64_t daily_quota = 0;  // 0: unlimited (but for a day the provider says is spent), and no pacing
  int burst = 10;                // requests that may go out back to back
};

// One provider's row of `rate_limits`.
struct Ledger {
  std::string day;
  std::int64_t used = 0;
  bool exhausted = false;  // the provider said the day's quota is spent before our count did
  double tokens = 0;       // the pacing bucket: up to `burst`, refilled at daily_quota per day
  util::UnixMillis tokens_at = 0;
};

// A fresh ledger: nothing used, a full bucket.
Ledger new_ledger(const QuotaSettings& settings, util::UnixMillis now, QuotaZone zone);

enum class QuotaVerdict {
  allowed,  // go: the ledger with this request counted is in `ledger`
  spent,    // the day's quota is used up: wait for `resets_at`
  paced,    // too soon after the burst: `wait` until a token is there
};

struct QuotaDecision {
  QuotaVerdict verdict = QuotaVerdict::allowed;
  Ledger ledger;  // the ledger to store (a new day resets the count; the bucket refills)
  util::Millis wait{0};
  util::UnixMillis resets_at = 0;
};

// Whether one more request may go out at `now`: not when the day's quota is used up or the provider said it is
// spent (`exhausted`, also with an unlimited quota), until the day changes; an unlimited quota is never paced.
QuotaDecision admit_request(const Ledger& current, const QuotaSettings& settings, util::UnixMillis now, QuotaZone zone);

}  // namespace oos::policy
