// What oos-scale tells the operator to look at, beyond the worker count: concrete, each naming the object
// and the command to run. A pure function of what oos-scale has read.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "util/duration.hpp"
#include "util/time.hpp"

namespace oos::scale {

struct QueueView {
  std::string name;
  std::int64_t dead = 0;
  bool breaker_open = false;
  util::UnixMillis breaker_opened_at = 0;
};

struct DiskView {
  std::string path;
  double used_percent = 0;
};

struct RecommendationInput {
  util::UnixMillis now = 0;
  int desired_workers = 0;
  int max_workers = 0;
  std::int64_t runnable = 0;
  std::optional<std::int64_t> runnable_earlier;  // the oldest sample of the load window
  util::Millis window{0};                        // how long ago that was, about
  std::vector<QueueView> queues;
  double fragmentation_percent = 0;
  int vacuum_threshold_percent = 25;
  std::vector<DiskView> disks;
  int disk_threshold_percent = 80;
};

// How long a breaker may stay open before it is worth a look.
inline constexpr util::Millis k_breaker_open_too_long{10 * 60 * 1000};

std::vector<std::string> recommend(const RecommendationInput& input);

}  // namespace oos::scale
