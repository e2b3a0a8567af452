#include "keys/ring_status.hpp"

#include <algorithm>

namespace oos::keys {

std::map<std::string, std::vector<std::string>> handlers_by_ring(const config::Config& config) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& [type, handler] : config.handlers)  // a std::map: the types come sorted
    for (const auto& ring : handler.key_rings)
      if (std::ranges::find(out[ring], type) == out[ring].end()) out[ring].push_back(type);
  return out;
}

std::int64_t uses_today(const KeyState& key, util::UnixMillis now) {
  return key.day == utc_day(now) ? key.uses_today : 0;
}

std::optional<util::UnixMillis> every_key_cooling_until(const std::vector<KeyState>& keys, util::UnixMillis now) {
  return choose_key(keys, now).wait_until;
}

std::vector<RingWait> waiting_rings(KeyRingStore& store, const config::Config& config, util::UnixMillis now) {
  std::vector<RingWait> out;
  for (auto& [ring, handlers] : handlers_by_ring(config))
    if (auto until = every_key_cooling_until(store.keys(ring), now)) out.push_back({ring, *until, std::move(handlers)});
  return out;
}

}  // namespace oos::keys
