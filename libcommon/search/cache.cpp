#include "search/cache.hpp"

#include <cctype>
#include <nlohmann/json.hpp>

namespace oos::search {

using nlohmann::json;

std::string normalise_query(std::string_view text) {
  std::string out;
  bool blank = false;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isspace(c)) {
      blank = true;
      continue;
    }
    if (blank && !out.empty()) out += ' ';
    blank = false;
    out += static_cast<char>(std::tolower(c));
  }
  return out;
}

json to_json(const Page& page) {
  auto results = json::array();
  for (const auto& r : page.results) results.push_back({{"title", r.title}, {"link", r.link}, {"snippet", r.snippet}});
  json doc{{"results", results}};
  doc["total_results"] = page.total_results ? json(*page.total_results) : json(nullptr);
  doc["next_start"] = page.next_start ? json(*page.next_start) : json(nullptr);
  return doc;
}

std::optional<Page> page_from_json(const json& doc) {
  if (!doc.is_object() || !doc.contains("results") || !doc["results"].is_array()) return std::nullopt;
  Page page;
  for (const auto& r : doc["results"]) {
    if (!r.is_object()) return std::nullopt;
    // json::value() would throw json::type_error for a field that is not a string, out of every search for
    // this query: such an entry is not a page.
    Result result;
    for (auto [key, field] :
         {std::pair{"title", &result.title}, {"link", &result.link}, {"snippet", &result.snippet}}) {
      auto it = r.find(key);
      if (it == r.end()) continue;
      if (!it->is_string()) return std::nullopt;
      *field = it->get<std::string>();
    }
    page.results.push_back(std::move(result));
  }
  if (doc.contains("total_results") && doc["total_results"].is_number_integer())
    page.total_results = doc["total_results"].get<std::int64_t>();
  if (doc.contains("next_start") && doc["next_start"].is_number_integer())
    page.next_start = doc["next_start"].get<int>();
  return page;
}

std::optional<CachedPage> SearchCache::find(const Query& query) {
  auto q = m_db.query(
      "SELECT provider, page, fetched_at, expires_at FROM search_cache WHERE query = ? AND num = ? AND start = ?");
  q->bind(1, normalise_query(query.text));
  q->bind(2, query.num);
  q->bind(3, query.start);
  if (!q->executeStep()) return std::nullopt;
  auto page = page_from_json(json::parse(q->getColumn(1).getString(), nullptr, false));
  if (!page) return std::nullopt;
  return CachedPage{q->getColumn(0).getString(), std::move(*page), q->getColumn(2).getInt64(),
                    q->getColumn(3).getInt64()};
}

void SearchCache::store(const Query& query, const std::string& provider, const Page& page, util::UnixMillis now,
                        util::Millis ttl) {
  db::WriteTransaction tx(m_db);
  {
    auto q = m_db.query(
        "INSERT OR REPLACE INTO search_cache (query, num, start, provider, page, fetched_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)");
    q->bind(1, normalise_query(query.text));
    q->bind(2, query.num);
    q->bind(3, query.start);
    q->bind(4, provider);
    q->bind(5, to_json(page).dump());
    q->bind(6, static_cast<std::int64_t>(now));
    q->bind(7, static_cast<std::int64_t>(now + ttl.count()));
    q->exec();
  }
  {
    auto q = m_db.query("DELETE FROM search_cache WHERE fetched_at < ?");
    q->bind(1, static_cast<std::int64_t>(now - ttl.count() - k_stale_keep.count()));
    q->exec();
  }
  tx.commit();
}

}  // namespace oos::search
