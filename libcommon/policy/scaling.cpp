#include "policy/scaling.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace oos::policy {
namespace {

// Whether the load stayed above the threshold for the whole window (the rule in scaling.hpp); nullopt when
// no sample is old enough to tell.
std::optional<bool> load_sustained(const config::ScaleSettings& settings, const ScaleInput& input) {
  const auto& history = input.history;
  const util::UnixMillis cutoff = input.now - settings.load_window.count();
  std::optional<std::size_t> anchor;  // the newest sample taken at or before the cutoff
  for (std::size_t i = 0; i < history.size(); ++i)
    if (history[i].at <= cutoff) anchor = i;
  if (!anchor) return std::nullopt;
  return std::all_of(history.begin() + static_cast<std::ptrdiff_t>(*anchor), history.end(),
                     [&](const Sample& s) { return s.load1 > settings.load_threshold; });
}

// What one step down means for `current` workers when the queue alone asks for `by_queue` (already
// clamped): the target and how it came about, for the reason line.
std::pair<std::int64_t, std::string> step_down(std::int64_t current, std::int64_t by_queue, std::int64_t lo) {
  if (by_queue <= current - 1)
    return {by_queue,
            fmt::format("no scale-up; the queue already asks for fewer than the {} running -> {}", current, by_queue)};
  // Here by_queue >= current, so current - 1 < by_queue <= hi.
  if (current - 1 < lo)
    return {lo, fmt::format("one fewer than the {} running, but not below min_workers {} -> {}", current, lo, lo)};
  return {current - 1, fmt::format("one fewer than the {} running -> {}", current, current - 1)};
}

}  // namespace

ScaleDecision decide_scale(const config::ScaleSettings& settings, const ScaleInput& input) {
  ScaleDecision decision;
  const std::int64_t lo = std::max(0, settings.min_workers);
  const std::int64_t hi = std::max<std::int64_t>(lo, settings.max_workers);
  const std::int64_t current = std::max(0, input.current_workers);
  const std::int64_t runnable = std::max<std::int64_t>(0, input.runnable);
  const std::int64_t per_worker = std::max(1, settings.tasks_per_worker);

  // 1. Queue depth.
  const std::int64_t wanted = runnable / per_worker + (runnable % per_worker != 0 ? 1 : 0);
  const std::int64_t by_queue = std::clamp(wanted, lo, hi);
  auto reason =
      fmt::format("{} runnable task{} / {} per worker -> {}", runnable, runnable == 1 ? "" : "s", per_worker, wanted);
  if (wanted < lo) reason += fmt::format(", raised to min_workers {}", lo);
  if (wanted > hi) reason += fmt::format(", capped at max_workers {}", hi);
  decision.reasons.push_back(reason);
  if (current > hi) decision.reasons.push_back(fmt::format("{} running, above max_workers {}", current, hi));
  std::int64_t desired = by_queue;

  if (input.history.empty()) {
    decision.reasons.emplace_back("no sample of load and memory: the queue depth alone decides");
    decision.desired = static_cast<int>(desired);
    return decision;
  }
  const Sample& newest = input.history.back();
  auto [stepped, step_text] = step_down(current, by_queue, lo);

  // 2. Sustained load.
  const auto window = util::format_duration(settings.load_window);
  if (newest.load1 > settings.load_threshold) {
    auto sustained = load_sustained(settings, input);
    if (sustained.value_or(false)) {
      decision.throttled = true;
      decision.reasons.push_back(fmt::format("load {:.2f} above {:.2f} for {} -> throttled: {}", newest.load1,
                                             settings.load_threshold, window, step_text));
    } else if (!sustained) {
      decision.reasons.push_back(fmt::format("load {:.2f} above {:.2f}, but no sample from {} ago yet -> not throttled",
                                             newest.load1, settings.load_threshold, window));
    } else {
      decision.reasons.push_back(fmt::format("load {:.2f} above {:.2f}, but not for the whole {} -> not throttled",
                                             newest.load1, settings.load_threshold, window));
    }
  }

  // 3. Memory pressure, from the newest sample.
  if (newest.memory_available_percent < settings.memory_available_min_percent) {
    decision.memory_pressure = true;
    decision.reasons.push_back(
        fmt::format("memory available {:.1f}% below {}% -> memory pressure: {}; workers release memory",
                    newest.memory_available_percent, settings.memory_available_min_percent, step_text));
  }
  if (newest.psi_some_avg10 && *newest.psi_some_avg10 > settings.memory_pressure_psi_some_avg10) {
    decision.memory_pressure = true;
    decision.reasons.push_back(fmt::format(
        "memory pressure (PSI some avg10) {:.2f} above {:.2f} -> memory pressure: {}; workers release memory",
        *newest.psi_some_avg10, settings.memory_pressure_psi_some_avg10, step_text));
  }

  if (decision.throttled || decision.memory_pressure) desired = stepped;  // one step, whichever applied
  decision.desired = static_cast<int>(std::clamp(desired, lo, hi));
  return decision;
}

}  // namespace oos::policy
