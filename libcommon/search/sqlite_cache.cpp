#include "search/sqlite_cache.hpp"

namespace oos::search {

std::optional<CachedPage> SqliteSearchCache::find(const Query& query) {
  auto q = m_db.query(
      "SELECT provider, page, fetched_at, expires_at FROM search_cache WHERE query = ? AND num = ? AND start = ?");
  q->bind(1, normalise_query(query.text));
  q->bind(2, query.num);
  q->bind(3, query.start);
  if (!q->executeStep()) return std::nullopt;
  return cached_page(q->getColumn(0).getString(), q->getColumn(1).getString(), q->getColumn(2).getInt64(),
                     q->getColumn(3).getInt64());
}

void SqliteSearchCache::store(const Query& query, const std::string& provider, const Page& page, util::UnixMillis now,
                              util::Millis ttl) {
  auto row = cache_row(query, page, now, ttl);
  db::WriteTransaction tx(m_db);
  {
    auto q = m_db.query(
        "INSERT OR REPLACE INTO search_cache (query, num, start, provider, page, fetched_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)");
    q->bind(1, row.query);
    q->bind(2, row.num);
    q->bind(3, row.start);
    q->bind(4, provider);
    q->bind(5, row.page);
    q->bind(6, static_cast<std::int64_t>(now));
    q->bind(7, static_cast<std::int64_t>(row.expires_at));
    q->exec();
  }
  {
    auto q = m_db.query("DELETE FROM search_cache WHERE fetched_at < ?");
    q->bind(1, static_cast<std::int64_t>(row.delete_before));
    q->exec();
  }
  tx.commit();
}

}  // namespace oos::search
