// Key rings (docs/reference.md section 6, key rings): a secret holding several API keys, one handed to each run,
// as pure functions: the ring read from its secret, a key's fingerprint, the variable a run gets its key in, and
// which key a run gets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/time.hpp"

namespace oos::keys {

// The keys of a ring's secret, in their order.
struct RingKeys {
  std::vector<std::string> keys;  // trimmed, empty entries dropped, each key once
  int duplicates = 0;             // entries dropped because an earlier entry holds the same key
};

// Reads a ring's secret: comma-separated keys, each trimmed of spaces, tabs and line ends; empty entries are
// dropped, and a key given twice is kept once (counted in `duplicates`, which `oos-health validate` warns about).
RingKeys parse_ring(std::string_view secret);

// The variable a run gets its one key in: the ring's name with "_KEYS" replaced by "_KEY" (OPENROUTER_KEYS ->
// OPENROUTER_KEY). `ring` ends in "_KEYS" (the configuration checks it).
std::string key_variable(std::string_view ring);

// A key's fingerprint, the only way the database and the logs know it: the first 16 hex digits of
// HMAC-SHA-256(installation_key, key). The installation key is a random value shared by every worker of one
// database (KeyRingStore::fingerprint_key), so a fingerprint cannot be compared with one of another installation
// or with the hash of a leaked key list (docs/decisions.md).
std::string fingerprint(std::string_view installation_key, std::string_view key);

// The fingerprints of `keys`, in their order.
std::vector<std::string> fingerprints(std::string_view installation_key, const std::vector<std::string>& keys);

// What the store knows of one key of a ring.
struct KeyState {
  std::string fingerprint;
  std::optional<util::UnixMillis> last_used_at;  // none: never handed out
  util::UnixMillis cooldown_until = 0;           // not handed out before this time
  std::int64_t uses_today = 0;                   // runs handed this key on `day`
  std::int64_t day = 0;                          // the UTC day (days since the epoch) uses_today counts
};

// How a ring's stored rows become exactly the keys of its secret (KeyRingStore::pick, on either backend).
struct RingSync {
  std::vector<std::string> removed;  // fingerprints stored but no longer in the secret: their rows go
  std::vector<std::string> added;    // fingerprints new to the secret: a row each, never used
  std::vector<KeyState> states;      // every key of the secret, in its order (choose_key's tie rule)
};

// Compares the rows stored for a ring with the fingerprints of its secret's keys, in the secret's order.
RingSync sync_ring(const std::vector<KeyState>& stored, const std::vector<std::string>& fingerprints);

// The UTC day of `now`, in days since the epoch (what KeyState::day holds).
std::int64_t utc_day(util::UnixMillis now);

// Which key a run gets.
struct KeyChoice {
  std::optional<std::size_t> index;            // the chosen key's position in the states given
  std::optional<util::UnixMillis> wait_until;  // none chosen: every key cools down, the first is back then
};

// The least-recently-used key among those not cooling down at `now` (never used first, then the oldest use; a
// tie goes to the earlier key of the secret); when every key cools down, none, and the end of the earliest
// cooldown. An empty ring gives neither.
KeyChoice choose_key(const std::vector<KeyState>& keys, util::UnixMillis now);

}  // namespace oos::keys
