#include "search/ledger.hpp"

namespace oos::search {

RateLimitStore::QuotaUse RateLimitStore::today(const std::string& provider, std::int64_t daily_quota,
                                               util::UnixMillis now) {
  auto zone = policy::quota_zone(provider);
  QuotaUse use;
  use.resets_at = policy::next_quota_reset(now, zone);
  auto ledger = load(provider);
  use.asked = ledger.has_value();
  if (ledger && ledger->day == policy::quota_day(now, zone)) {
    use.used = ledger->used;
    use.spent = ledger->exhausted || (daily_quota > 0 && ledger->used >= daily_quota);
  }
  return use;
}

policy::Ledger spent_today(const std::optional<policy::Ledger>& stored, const policy::QuotaSettings& settings,
                           util::UnixMillis now, policy::QuotaZone zone) {
  auto ledger = stored.value_or(policy::new_ledger(settings, now, zone));
  if (ledger.day != policy::quota_day(now, zone)) ledger = policy::new_ledger(settings, now, zone);
  ledger.exhausted = true;
  return ledger;
}

}  // namespace oos::search
