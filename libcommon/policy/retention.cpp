#include "policy/retention.hpp"

#include <algorithm>
#include <numeric>
#include <optional>

namespace oos::policy {
namespace {

constexpr std::int64_t k_day_ms = 86'400'000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

// UTC day number since 1970-01-01 (a Thursday).
std::int64_t day_of(util::UnixMillis t) {
  return floor_div(t, k_day_ms);
}
// Week number, weeks starting on Monday (1970-01-05 starts week 1).
std::int64_t week_of(util::UnixMillis t) {
  return floor_div(day_of(t) + 3, 7);
}

}  // namespace

std::vector<bool> backups_to_keep(std::span<const util::UnixMillis> created, const RetentionPolicy& policy) {
  std::vector<bool> keep(created.size(), false);
  // Indices newest first; ties keep input order, so the result does not depend on sort stability.
  std::vector<std::size_t> order(created.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return created[a] > created[b]; });

  for (std::size_t i = 0; i < order.size() && static_cast<int>(i) < policy.keep_last; ++i) keep[order[i]] = true;

  // The newest backup of each of the `count` most recent periods that have any.
  auto keep_per_period = [&](int count, std::int64_t (*period_of)(util::UnixMillis)) {
    int periods = 0;
    std::optional<std::int64_t> last;
    for (auto i : order) {
      if (periods >= count) break;
      auto period = period_of(created[i]);
      if (last && *last == period) continue;
      last = period;
      keep[i] = true;
      ++periods;
    }
  };
  keep_per_period(policy.keep_daily, day_of);
  keep_per_period(policy.keep_weekly, week_of);
  return keep;
}

}  // namespace oos::policy
