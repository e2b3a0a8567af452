#include "keys/sqlite_key_ring_store.hpp"

#include "util/random.hpp"

namespace oos::keys {
namespace {

// 32 random bytes: as long as HMAC-SHA-256's output, which is all the strength a longer key could add.
constexpr std::size_t k_fingerprint_key_bytes = 32;

KeyState read_state(SQLite::Statement& q) {
  KeyState state;
  state.fingerprint = q.getColumn(0).getString();
  if (!q.getColumn(1).isNull()) state.last_used_at = q.getColumn(1).getInt64();
  state.cooldown_until = q.getColumn(2).getInt64();
  state.uses_today = q.getColumn(3).getInt64();
  state.day = q.getColumn(4).getInt64();
  return state;
}

}  // namespace

std::string SqliteKeyRingStore::fingerprint_key() {
  {
    auto q = m_db.query("SELECT fingerprint_key FROM key_ring_installation WHERE one = 1");
    if (q->executeStep()) return q->getColumn(0).getString();
  }
  db::WriteTransaction tx(m_db);
  {
    auto insert = m_db.query("INSERT OR IGNORE INTO key_ring_installation (one, fingerprint_key) VALUES (1, ?)");
    insert->bind(1, util::random_token(k_fingerprint_key_bytes));
    insert->exec();
  }
  std::string key;
  {
    auto q = m_db.query("SELECT fingerprint_key FROM key_ring_installation WHERE one = 1");
    q->executeStep();
    key = q->getColumn(0).getString();
  }
  tx.commit();
  return key;
}

KeyPick SqliteKeyRingStore::pick(std::string_view ring, const std::vector<std::string>& fingerprints,
                                 util::UnixMillis now) {
  db::WriteTransaction tx(m_db);
  auto sync = sync_ring(keys(ring), fingerprints);
  for (const auto& gone : sync.removed) {
    auto remove = m_db.query("DELETE FROM key_ring_keys WHERE ring = ? AND fingerprint = ?");
    remove->bind(1, std::string(ring));
    remove->bind(2, gone);
    remove->exec();
  }
  for (const auto& added : sync.added) {
    auto insert = m_db.query("INSERT INTO key_ring_keys (ring, fingerprint) VALUES (?, ?)");
    insert->bind(1, std::string(ring));
    insert->bind(2, added);
    insert->exec();
  }
  const auto& states = sync.states;
  auto choice = choose_key(states, now);
  KeyPick pick{std::nullopt, choice.wait_until};
  if (choice.index) {
    pick.fingerprint = states[*choice.index].fingerprint;
    auto use = m_db.query(
        "UPDATE key_ring_keys SET last_used_at = ?3, uses_today = CASE WHEN day = ?4 THEN uses_today + 1 ELSE 1 END, "
        "day = ?4 WHERE ring = ?1 AND fingerprint = ?2");
    use->bind(1, std::string(ring));
    use->bind(2, *pick.fingerprint);
    use->bind(3, static_cast<std::int64_t>(now));
    use->bind(4, utc_day(now));
    use->exec();
  }
  tx.commit();
  return pick;
}

void SqliteKeyRingStore::cool_down(std::string_view ring, std::string_view fingerprint, util::UnixMillis until) {
  db::WriteTransaction tx(m_db);
  auto q = m_db.query(
      "UPDATE key_ring_keys SET cooldown_until = max(cooldown_until, ?3) WHERE ring = ?1 AND fingerprint = ?2");
  q->bind(1, std::string(ring));
  q->bind(2, std::string(fingerprint));
  q->bind(3, static_cast<std::int64_t>(until));
  q->exec();
  tx.commit();
}

std::vector<KeyState> SqliteKeyRingStore::keys(std::string_view ring) {
  auto q = m_db.query(
      "SELECT fingerprint, last_used_at, cooldown_until, uses_today, day FROM key_ring_keys WHERE ring = ? "
      "ORDER BY fingerprint");
  q->bind(1, std::string(ring));
  std::vector<KeyState> out;
  while (q->executeStep()) out.push_back(read_state(*q));
  return out;
}

std::vector<std::string> SqliteKeyRingStore::rings() {
  auto q = m_db.query("SELECT DISTINCT ring FROM key_ring_keys ORDER BY ring");
  std::vector<std::string> out;
  while (q->executeStep()) out.push_back(q->getColumn(0).getString());
  return out;
}

}  // namespace oos::keys
