// What the tools show of the key rings (docs/reference.md section 6, key rings): the rings the handlers name, the
// uses of a key today, and the rings whose every key cools down, which `oos-queue status` names. By fingerprint only.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "keys/key_ring.hpp"
#include "keys/key_ring_store.hpp"
#include "util/time.hpp"

namespace oos::keys {

// Each ring a configured handler names, with the types of the handlers that name it (sorted); empty when no
// handler has key_rings.
std::map<std::string, std::vector<std::string>> handlers_by_ring(const config::Config& config);

// The uses of `key` on the UTC day of `now`: its uses_today when its `day` is today's, else 0 (the count starts
// again at the day's first pick).
std::int64_t uses_today(const KeyState& key, util::UnixMillis now);

// When every stored key of a ring cools down at `now`: the end of the earliest cooldown, when the first key is back
// (choose_key's wait). None when a key is free, or when nothing is stored yet (no key handed out).
std::optional<util::UnixMillis> every_key_cooling_until(const std::vector<KeyState>& keys, util::UnixMillis now);

// A ring whose every key cools down: its tasks wait until `until`.
struct RingWait {
  std::string ring;
  util::UnixMillis until = 0;         // when the first key is back
  std::vector<std::string> handlers;  // the types of the handlers that name it
};

// The configured rings (handlers_by_ring) whose every stored key cools down at `now`, by name; one keys() read
// per ring.
std::vector<RingWait> waiting_rings(KeyRingStore& store, const config::Config& config, util::UnixMillis now);

}  // namespace oos::keys
