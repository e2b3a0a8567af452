#include "scale/recommendations.hpp"

#include <fmt/format.h>

#include "util/duration.hpp"

namespace oos::scale {

std::vector<std::string> recommend(const RecommendationInput& in) {
  std::vector<std::string> out;
  if (in.desired_workers >= in.max_workers && in.runnable_earlier && in.runnable > *in.runnable_earlier)
    out.push_back(
        fmt::format("workers at the maximum ({}) and the backlog grew from {} to {} runnable tasks in {}: "
                    "raise scale.max_workers, or look for slow handlers with 'oos-queue stats QUEUE'",
                    in.max_workers, *in.runnable_earlier, in.runnable, util::format_duration(in.window)));
  for (const auto& q : in.queues) {
    auto open_for = util::Millis(in.now - q.breaker_opened_at);
    if (q.breaker_open && open_for >= k_breaker_open_too_long)
      out.push_back(
          fmt::format("queue {}: breaker open for {}: its handler keeps failing; see 'oos-retry list "
                      "--queue {}' and the journal, then 'oos-queue breaker {} --reset'",
                      q.name, util::format_duration(open_for), q.name, q.name));
    if (q.dead > 0)
      out.push_back(
          fmt::format("queue {}: {} dead tasks wait for a decision: 'oos-retry list --queue {}', then "
                      "'oos-retry ID...' once the cause is fixed, or let retention purge them",
                      q.name, q.dead, q.name));
  }
  if (in.fragmentation_percent > in.vacuum_threshold_percent)
    out.push_back(
        fmt::format("database {:.0f}% free pages (threshold {}%): run 'oos-integrity vacuum' at a quiet "
                    "time",
                    in.fragmentation_percent, in.vacuum_threshold_percent));
  for (const auto& d : in.disks)
    if (d.used_percent >= in.disk_threshold_percent)
      out.push_back(
          fmt::format("disk holding {} is {:.0f}% full (threshold {}%): run 'oos-cleanup --force' and "
                      "check the cleanup rules, or prune backups with 'oos-backup prune'",
                      d.path, d.used_percent, in.disk_threshold_percent));
  return out;
}

}  // namespace oos::scale
