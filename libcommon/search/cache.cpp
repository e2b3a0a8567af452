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

CacheRow cache_row(const Query& query, const Page& page, util::UnixMillis now, util::Millis ttl) {
  return {normalise_query(query.text), query.num,         query.start,
          to_json(page).dump(),        now + ttl.count(), now - ttl.count() - k_stale_keep.count()};
}

std::optional<CachedPage> cached_page(std::string provider, const std::string& page_text, util::UnixMillis fetched_at,
                                      util::UnixMillis expires_at) {
  auto page = page_from_json(json::parse(page_text, nullptr, false));
  if (!page) return std::nullopt;
  return CachedPage{std::move(provider), std::move(*page), fetched_at, expires_at};
}

}  // namespace oos::search
