// The search cache on SQLite: the `search_cache` table of the state directory's oos.db.
#pragma once

#include "db/database.hpp"
#include "search/cache.hpp"

namespace oos::search {

class SqliteSearchCache final : public SearchCache {
 public:
  explicit SqliteSearchCache(db::Database& db) : m_db(db) {}

  std::optional<CachedPage> find(const Query& query) override;
  void store(const Query& query, const std::string& provider, const Page& page, util::UnixMillis now,
             util::Millis ttl) override;

 private:
  db::Database& m_db;
};

}  // namespace oos::search
