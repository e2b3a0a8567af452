#include "search/sqlite_ledger.hpp"

namespace oos::search {

std::optional<policy::Ledger> SqliteRateLimitStore::load(const std::string& provider) {
  auto q = m_db.query("SELECT day, used, exhausted, tokens, tokens_at FROM rate_limits WHERE provider = ?");
  q->bind(1, provider);
  if (!q->executeStep()) return std::nullopt;
  return policy::Ledger{q->getColumn(0).getString(), q->getColumn(1).getInt64(), q->getColumn(2).getInt() != 0,
                        q->getColumn(3).getDouble(), q->getColumn(4).getInt64()};
}

void SqliteRateLimitStore::save(const std::string& provider, const policy::Ledger& l, util::UnixMillis now) {
  auto q = m_db.query(
      "INSERT INTO rate_limits (provider, day, used, exhausted, tokens, tokens_at, updated_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (provider) DO UPDATE SET day = ?2, used = ?3, "
      "exhausted = ?4, tokens = ?5, tokens_at = ?6, updated_at = ?7");
  q->bind(1, provider);
  q->bind(2, l.day);
  q->bind(3, static_cast<std::int64_t>(l.used));
  q->bind(4, l.exhausted ? 1 : 0);
  q->bind(5, l.tokens);
  q->bind(6, static_cast<std::int64_t>(l.tokens_at));
  q->bind(7, static_cast<std::int64_t>(now));
  q->exec();
}

policy::QuotaDecision SqliteRateLimitStore::acquire(const std::string& provider, const policy::QuotaSettings& settings,
                                                    policy::QuotaZone zone, const util::Clock& clock) {
  db::WriteTransaction tx(m_db);
  auto now = clock.now();
  auto current = load(provider).value_or(policy::new_ledger(settings, now, zone));
  auto decision = policy::admit_request(current, settings, now, zone);
  save(provider, decision.ledger, now);
  tx.commit();
  return decision;
}

void SqliteRateLimitStore::mark_exhausted(const std::string& provider, const policy::QuotaSettings& settings,
                                          policy::QuotaZone zone, const util::Clock& clock) {
  db::WriteTransaction tx(m_db);
  auto now = clock.now();
  save(provider, spent_today(load(provider), settings, now, zone), now);
  tx.commit();
}

}  // namespace oos::search
