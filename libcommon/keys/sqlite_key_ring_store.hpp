// The key ring store on SQLite: the `key_ring_keys` and `key_ring_installation` tables of oos.db.
#pragma once

#include "db/database.hpp"
#include "keys/key_ring_store.hpp"

namespace oos::keys {

class SqliteKeyRingStore final : public KeyRingStore {
 public:
  explicit SqliteKeyRingStore(db::Database& db) : m_db(db) {}

  std::string fingerprint_key() override;
  KeyPick pick(std::string_view ring, const std::vector<std::string>& fingerprints, util::UnixMillis now) override;
  void cool_down(std::string_view ring, std::string_view fingerprint, util::UnixMillis until) override;
  std::vector<KeyState> keys(std::string_view ring) override;
  std::vector<std::string> rings() override;

 private:
  db::Database& m_db;
};

}  // namespace oos::keys
