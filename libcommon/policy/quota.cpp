#include "policy/quota.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace oos::policy {
namespace {

constexpr std::int64_t k_hour = 3'600'000;
constexpr std::int64_t k_day = 24 * k_hour;

// Days since 1970-01-01 of a civil date, and back (Howard Hinnant's algorithms).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// The day (since the epoch) of the n-th Sunday (1-based) of a month.
std::int64_t nth_sunday(std::int64_t year, unsigned month, int n) {
  auto first = days_from_civil(year, month, 1);
  auto weekday = ((first % 7) + 11) % 7;  // 1970-01-01 was a Thursday: 0 = Sunday
  return first + (7 - weekday) % 7 + 7 * (n - 1);
}

util::Millis offset(util::UnixMillis now, QuotaZone zone) {
  return zone == QuotaZone::us_pacific ? us_pacific_offset(now) : util::Millis(0);
}

}  // namespace

QuotaZone quota_zone(std::string_view provider) {
  return provider == "google" ? QuotaZone::us_pacific : QuotaZone::utc;
}

util::Millis us_pacific_offset(util::UnixMillis now) {
  auto year = civil_from_days(floor_div(now - 8 * k_hour, k_day)).year;
  // 02:00 PST on the second Sunday of March is 10:00 UTC; 02:00 PDT on the first Sunday of November is 09:00.
  auto dst_start = nth_sunday(year, 3, 2) * k_day + 10 * k_hour;
  auto dst_end = nth_sunday(year, 11, 1) * k_day + 9 * k_hour;
  return util::Millis((now >= dst_start && now < dst_end ? -7 : -8) * k_hour);
}

std::string quota_day(util::UnixMillis now, QuotaZone zone) {
  auto c = civil_from_days(floor_div(now + offset(now, zone).count(), k_day));
  return fmt::format("{:04}-{:02}-{:02}", c.year, c.month, c.day);
}

util::UnixMillis next_quota_reset(util::UnixMillis now, QuotaZone zone) {
  auto local_midnight = (floor_div(now + offset(now, zone).count(), k_day) + 1) * k_day;
  // The offset at the reset may differ from now's (a change of daylight saving time in between).
  auto guess = local_midnight - offset(now, zone).count();
  return local_midnight - offset(guess, zone).count();
}

Ledger new_ledger(const QuotaSettings& settings, util::UnixMillis now, QuotaZone zone) {
  return {quota_day(now, zone), 0, false, static_cast<double>(std::max(1, settings.burst)), now};
}

QuotaDecision admit_request(const Ledger& current, const QuotaSettings& settings, util::UnixMillis now,
                            QuotaZone zone) {
  QuotaDecision d;
  d.resets_at = next_quota_reset(now, zone);
  d.ledger = current;
  auto today = quota_day(now, zone);
  if (d.ledger.day != today) {
    d.ledger.day = today;
    d.ledger.used = 0;
    d.ledger.exhausted = false;
  }
  // The provider's word that its day is spent holds whatever quota is configured, unlimited included: asking
  // again would only spend a request on the same refusal.
  if (d.ledger.exhausted || (settings.daily_quota > 0 && d.ledger.used >= settings.daily_quota)) {
    d.verdict = QuotaVerdict::spent;
    return d;
  }
  if (settings.daily_quota <= 0) {  // unlimited: counted, never paced
    ++d.ledger.used;
    return d;
  }
  double capacity = std::max(1, settings.burst);
  double per_ms = static_cast<double>(settings.daily_quota) / static_cast<double>(k_day);
  auto elapsed = static_cast<double>(std::max<std::int64_t>(0, now - d.ledger.tokens_at));
  d.ledger.tokens = std::min(capacity, d.ledger.tokens + elapsed * per_ms);
  d.ledger.tokens_at = now;
  // A token counts when it is there up to rounding: a client that waited `wait` must then be let through.
  constexpr double k_rounding = 1e-9;
  if (d.ledger.tokens < 1.0 - k_rounding) {
    d.verdict = QuotaVerdict::paced;
    d.wait = util::Millis(static_cast<std::int64_t>(std::ceil((1.0 - d.ledger.tokens) / per_ms)));
    return d;
  }
  d.ledger.tokens = std::max(0.0, d.ledger.tokens - 1.0);
  ++d.ledger.used;
  return d;
}

}  // namespace oos::policy
