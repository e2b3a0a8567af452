// The key ring store on PostgreSQL: `key_ring_keys` and `key_ring_installation` (schema version 4), shared by the
// workers of every host.
#pragma once

#include "keys/key_ring_store.hpp"
#include "pg/connection.hpp"

namespace oos::pg {

class PgKeyRingStore final : public keys::KeyRingStore {
 public:
  explicit PgKeyRingStore(Connection& connection) : m_connection(connection) {}

  std::string fingerprint_key() override;
  // Serialised per ring by a transaction-scoped advisory lock (the rows of a new ring do not exist yet to be
  // locked with FOR UPDATE).
  keys::KeyPick pick(std::string_view ring, const std::vector<std::string>& fingerprints,
                     util::UnixMillis now) override;
  void cool_down(std::string_view ring, std::string_view fingerprint, util::UnixMillis until) override;
  std::vector<keys::KeyState> keys(std::string_view ring) override;
  std::vector<std::string> rings() override;

 private:
  Connection& m_connection;
};

}  // namespace oos::pg
