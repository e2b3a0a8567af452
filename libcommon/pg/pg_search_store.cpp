#include "pg/pg_search_store.hpp"

#include <string_view>

#include "pg/values.hpp"

namespace oos::pg {
namespace {

constexpr const char* k_select_ledger =
    "SELECT day, used, exhausted, tokens, tokens_at FROM rate_limits WHERE provider = $1";

policy::Ledger read_ledger(const Result& r) {
  return {std::string(r.text(0, 0)), int_at(r, 0, 1), r.text(0, 2) == "t", double_at(r, 0, 3), int_at(r, 0, 4)};
}

}  // namespace

std::optional<policy::Ledger> PgRateLimitStore::load(const std::string& provider) {
  const Result r = m_connection.exec_params(k_select_ledger, {provider});
  if (r.rows() == 0) return std::nullopt;
  return read_ledger(r);
}

policy::Ledger PgRateLimitStore::lock(const std::string& provider, const policy::QuotaSettings& settings,
                                      policy::QuotaZone zone, const util::Clock& clock) {
  const std::string select = std::string(k_select_ledger) + " FOR UPDATE";
  if (const Result r = m_connection.exec_params(select, {provider}); r.rows() > 0) return read_ledger(r);
  // The provider's first request: a row to lock. Another host inserting it at once makes this one wait for its
  // commit and insert nothing; the SELECT below then locks the row that host wrote (READ COMMITTED: each statement
  // sees what committed before it).
  auto fresh = policy::new_ledger(settings, clock.now(), zone);
  m_connection.exec_params(
      "INSERT INTO rate_limits (provider, day, used, exhausted, tokens, tokens_at, updated_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (provider) DO NOTHING",
      {provider, fresh.day, pg::param(fresh.used), fresh.exhausted ? "true" : "false", param_real(fresh.tokens),
       pg::param(fresh.tokens_at)});
  return read_ledger(m_connection.exec_params(select, {provider}));
}

void PgRateLimitStore::save(const std::string& provider, const policy::Ledger& l, util::UnixMillis now) {
  m_connection.exec_params(
      "UPDATE rate_limits SET day = $2, used = $3, exhausted = $4, tokens = $5, tokens_at = $6, updated_at = $7 "
      "WHERE provider = $1",
      {provider, l.day, pg::param(l.used), l.exhausted ? "true" : "false", param_real(l.tokens), pg::param(l.tokens_at),
       pg::param(now)});
}

policy::QuotaDecision PgRateLimitStore::acquire(const std::string& provider, const policy::QuotaSettings& settings,
                                                policy::QuotaZone zone, const util::Clock& clock) {
  Transaction tx(m_connection);
  auto current = lock(provider, settings, zone, clock);
  auto now = clock.now();  // read under the row lock: a wait for it refills nothing twice
  auto decision = policy::admit_request(current, settings, now, zone);
  save(provider, decision.ledger, now);
  tx.commit();
  return decision;
}

void PgRateLimitStore::mark_exhausted(const std::string& provider, const policy::QuotaSettings& settings,
                                      policy::QuotaZone zone, const util::Clock& clock) {
  Transaction tx(m_connection);
  auto current = lock(provider, settings, zone, clock);
  auto now = clock.now();
  save(provider, search::spent_today(current, settings, now, zone), now);
  tx.commit();
}

std::optional<search::CachedPage> PgSearchCache::find(const search::Query& query) {
  auto key = search::normalise_query(query.text);
  if (!is_storable_text(key)) return std::nullopt;  // never stored
  const Result r = m_connection.exec_params(
      "SELECT provider, page, fetched_at, expires_at FROM search_cache WHERE query = $1 AND num = $2 AND start = $3",
      {key, pg::param(query.num), pg::param(query.start)});
  if (r.rows() == 0) return std::nullopt;
  return search::cached_page(std::string(r.text(0, 0)), std::string(r.text(0, 1)), int_at(r, 0, 2), int_at(r, 0, 3));
}

void PgSearchCache::store(const search::Query& query, const std::string& provider, const search::Page& page,
                          util::UnixMillis now, util::Millis ttl) {
  auto row = search::cache_row(query, page, now, ttl);
  // A key the text type refuses (not UTF-8, or a NUL that libpq would cut it at, merging it with another key) is not
  // cached, rather than failing the search it answers.
  if (!is_storable_text(row.query)) return;
  Transaction tx(m_connection);
  m_connection.exec_params(
      "INSERT INTO search_cache (query, num, start, provider, page, fetched_at, expires_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (query, num, start) DO UPDATE SET provider = "
      "excluded.provider, page = excluded.page, fetched_at = excluded.fetched_at, expires_at = excluded.expires_at",
      {row.query, pg::param(row.num), pg::param(row.start), provider, row.page, pg::param(now),
       pg::param(row.expires_at)});
  m_connection.exec_params("DELETE FROM search_cache WHERE fetched_at < $1", {pg::param(row.delete_before)});
  tx.commit();
}

void PgSearchStore::change_breaker(std::string_view provider, const std::function<void()>& change) {
  Transaction tx(m_connection);
  m_breakers.lock(search::k_breaker_kind, provider);
  change();
  tx.commit();
}

}  // namespace oos::pg
