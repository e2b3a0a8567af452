#include "pg/pg_key_ring_store.hpp"

#include "pg/values.hpp"
#include "util/random.hpp"

namespace oos::pg {
namespace {

// The first key of the rings' advisory locks (the second is a hash of the ring's name), apart from the breakers'.
constexpr int k_ring_lock_class = 0x4f4f534b;  // "OOSK"
constexpr std::size_t k_fingerprint_key_bytes = 32;

}  // namespace

std::string PgKeyRingStore::fingerprint_key() {
  // The first caller's value wins; every later one reads it (ON CONFLICT DO NOTHING returns no row then).
  m_connection.exec_params(
      "INSERT INTO key_ring_installation (one, fingerprint_key) VALUES (true, $1) ON CONFLICT (one) DO NOTHING",
      {util::random_token(k_fingerprint_key_bytes)});
  const Result r = m_connection.exec_params("SELECT fingerprint_key FROM key_ring_installation");
  return std::string(r.text(0, 0));
}

keys::KeyPick PgKeyRingStore::pick(std::string_view ring, const std::vector<std::string>& fingerprints,
                                   util::UnixMillis now) {
  Transaction tx(m_connection);
  m_connection.exec_params("SELECT pg_advisory_xact_lock($1, hashtext($2))::text",
                           {param(k_ring_lock_class), std::string(ring)});
  auto sync = keys::sync_ring(keys(ring), fingerprints);
  for (const auto& gone : sync.removed)
    m_connection.exec_params("DELETE FROM key_ring_keys WHERE ring = $1 AND fingerprint = $2",
                             {std::string(ring), gone});
  for (const auto& added : sync.added)
    m_connection.exec_params("INSERT INTO key_ring_keys (ring, fingerprint) VALUES ($1, $2)",
                             {std::string(ring), added});
  const auto& states = sync.states;
  auto choice = keys::choose_key(states, now);
  keys::KeyPick pick{std::nullopt, choice.wait_until};
  if (choice.index) {
    pick.fingerprint = states[*choice.index].fingerprint;
    m_connection.exec_params(
        "UPDATE key_ring_keys SET last_used_at = $3, uses_today = CASE WHEN day = $4 THEN uses_today + 1 ELSE 1 END, "
        "day = $4 WHERE ring = $1 AND fingerprint = $2",
        {std::string(ring), *pick.fingerprint, param(now), param(keys::utc_day(now))});
  }
  tx.commit();
  return pick;
}

void PgKeyRingStore::cool_down(std::string_view ring, std::string_view fingerprint, util::UnixMillis until) {
  m_connection.exec_params(
      "UPDATE key_ring_keys SET cooldown_until = greatest(cooldown_until, $3) WHERE ring = $1 AND fingerprint = $2",
      {std::string(ring), std::string(fingerprint), param(until)});
}

std::vector<keys::KeyState> PgKeyRingStore::keys(std::string_view ring) {
  const Result r = m_connection.exec_params(
      "SELECT fingerprint, last_used_at, cooldown_until, uses_today, day FROM key_ring_keys WHERE ring = $1 "
      "ORDER BY fingerprint",
      {std::string(ring)});
  std::vector<keys::KeyState> out;
  for (int i = 0; i < r.rows(); ++i)
    out.push_back(keys::KeyState{std::string(r.text(i, 0)), opt_int_at(r, i, 1), int_at(r, i, 2), int_at(r, i, 3),
                                 int_at(r, i, 4)});
  return out;
}

std::vector<std::string> PgKeyRingStore::rings() {
  // COLLATE "C": byte order, as SQLite sorts, whatever the database's collation.
  const Result r = m_connection.exec_params("SELECT ring FROM key_ring_keys GROUP BY ring ORDER BY ring COLLATE \"C\"");
  std::vector<std::string> out;
  for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.text(i, 0));
  return out;
}

}  // namespace oos::pg
