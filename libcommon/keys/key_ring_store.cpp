#include "keys/key_ring_store.hpp"

#include <algorithm>

namespace oos::keys {

std::expected<TakenKey, util::UnixMillis> KeyRingStore::take(std::string_view ring,
                                                             const std::vector<std::string>& keys,
                                                             std::string_view installation_key, util::UnixMillis now) {
  auto prints = fingerprints(installation_key, keys);
  auto picked = pick(ring, prints, now);
  if (!picked.fingerprint) return std::unexpected(std::max(picked.wait_until.value_or(now), now));
  auto at = static_cast<std::size_t>(std::ranges::find(prints, *picked.fingerprint) - prints.begin());
  return TakenKey{keys.at(at), *picked.fingerprint};
}

}  // namespace oos::keys
