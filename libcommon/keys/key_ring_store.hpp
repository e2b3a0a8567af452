// KeyRingStore: the keys of the key rings as every worker of one database shares them (docs/reference.md section
// 6, key rings), known by fingerprint only.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "keys/key_ring.hpp"
#include "util/time.hpp"

namespace oos::keys {

// A key handed to a run: its fingerprint, or the time the first key of the ring is back.
struct KeyPick {
  std::optional<std::string> fingerprint;      // the key chosen (one of those given)
  std::optional<util::UnixMillis> wait_until;  // none chosen: every key cools down until at least then
};

// A key of a ring handed to one run or request: the key itself (for the process that uses it, never stored or
// logged) and its fingerprint (what the database, the logs and the messages know it by).
struct TakenKey {
  std::string value;
  std::string fingerprint;
};

class KeyRingStore {
 public:
  virtual ~KeyRingStore() = default;

  // The installation's fingerprint key (keys::fingerprint): random, made by the first call on this database and
  // the same for every worker of it afterwards.
  virtual std::string fingerprint_key() = 0;

  // In one write transaction: the rows of `ring` become exactly `fingerprints` (a key new to the secret joins,
  // never used; a row of a key no longer in it is removed), choose_key() decides at `now` (a tie goes to the
  // earlier of `fingerprints`), and the chosen key's last use becomes `now`, with one more use today. Two workers
  // never get the same key while another is free: the second waits for the first's transaction.
  virtual KeyPick pick(std::string_view ring, const std::vector<std::string>& fingerprints, util::UnixMillis now) = 0;

  // Keeps the key out of the ring until `until` (a later cooldown already set stays). A key without a row (removed
  // from the secret meanwhile) is ignored.
  virtual void cool_down(std::string_view ring, std::string_view fingerprint, util::UnixMillis until) = 0;

  // pick() of the ring whose secret holds `keys` (keys::parse_ring), each known by its fingerprint under
  // `installation_key` (fingerprint_key()): the key chosen, or when every key cools down, the time the first is
  // back (never before `now`). What the worker and the search client both do with a ring.
  std::expected<TakenKey, util::UnixMillis> take(std::string_view ring, const std::vector<std::string>& keys,
                                                 std::string_view installation_key, util::UnixMillis now);

  // The ring's keys as stored (last picks' view: a key added since has no row yet), by fingerprint.
  virtual std::vector<KeyState> keys(std::string_view ring) = 0;

  // The rings that have stored keys (picked at least once, by any configuration that used this database), by name.
  virtual std::vector<std::string> rings() = 0;
};

}  // namespace oos::keys
