// The search cache (the `search_cache` table): one page of results per normalised query, num and start, with the
// provider that answered and when. A fresh entry answers without a request; an expired one is kept (k_stale_keep)
// to be served as stale when every provider fails. Two implementations: SqliteSearchCache (search/sqlite_cache.hpp)
// and pg::PgSearchCache (pg/pg_search_store.hpp).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "search/provider.hpp"
#include "util/time.hpp"

namespace oos::search {

// How long an expired entry stays for stale-if-error.
inline constexpr util::Millis k_stale_keep{30LL * 24 * 60 * 60 * 1000};

// The cache key of a query: surrounding blanks removed, inner runs of blanks made one space, ASCII lower case.
std::string normalise_query(std::string_view text);

nlohmann::json to_json(const Page& page);
// nullopt when `doc` is not a page as to_json() writes it (a result field that is not a string included).
std::optional<Page> page_from_json(const nlohmann::json& doc);

struct CachedPage {
  std::string provider;
  Page page;
  util::UnixMillis fetched_at = 0;
  util::UnixMillis expires_at = 0;
};

class SearchCache {
 public:
  virtual ~SearchCache() = default;

  // The entry for this query, fresh or expired; nullopt when there is none (or it cannot be read).
  virtual std::optional<CachedPage> find(const Query& query) = 0;

  // Stores (replaces) the entry, expiring at now + ttl, and deletes entries fetched before now - ttl -
  // k_stale_keep; one write transaction.
  virtual void store(const Query& query, const std::string& provider, const Page& page, util::UnixMillis now,
                     util::Millis ttl) = 0;
};

// The columns both backends store for an entry.
struct CacheRow {
  std::string query;  // normalise_query()
  int num = 0;
  int start = 0;
  std::string page;  // to_json(page), dumped
  util::UnixMillis expires_at = 0;
  util::UnixMillis delete_before = 0;  // entries fetched before this go
};
CacheRow cache_row(const Query& query, const Page& page, util::UnixMillis now, util::Millis ttl);

// The entry a stored row holds; nullopt when its page is not one (page_from_json()).
std::optional<CachedPage> cached_page(std::string provider, const std::string& page_text, util::UnixMillis fetched_at,
                                      util::UnixMillis expires_at);

}  // namespace oos::search
