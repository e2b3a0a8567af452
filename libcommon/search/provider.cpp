#include "search/provider.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ctime>
#include <nlohmann/json.hpp>

#include "error.hpp"
#include "search/plain_text.hpp"

namespace oos::search {
namespace {

using nlohmann::json;

std::string text_of(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// One result, its title and snippet made plain text (providers send HTML highlights, entities and line breaks).
Result result_of(const json& item, const char* title, const char* link, const char* snippet) {
  return {plain_text(text_of(item, title)), text_of(item, link), plain_text(text_of(item, snippet))};
}

// A count that may come as a number or, as Google sends it, as a string of digits.
std::optional<std::int64_t> count_of(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (!it->is_string()) return std::nullopt;
  const auto& text = it->get_ref<const std::string&>();
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

std::optional<util::Millis> retry_after_of(const HttpResponse& response) {
  if (!response.retry_after) return std::nullopt;
  return parse_retry_after(*response.retry_after, response.received_at);
}

// `text` (a provider's message or body) as one line of at most `max` characters. A body may echo the request
// URL: its key= and cx= values are redacted before the cut, which would leave a piece of a key that no
// later scrub recognises.
std::string one_line(std::string text, std::size_t max = 300) {
  text = redact_url(std::move(text));
  std::replace(text.begin(), text.end(), '\n', ' ');
  std::replace(text.begin(), text.end(), '\r', ' ');
  if (text.size() > max) text = text.substr(0, max) + "...";
  return text;
}

// What an HTTP status alone says, for providers without a richer error body.
ProviderFailure by_status(const HttpResponse& response, std::string message) {
  auto status = response.status;
  auto failure = [&](Problem p) {
    return ProviderFailure{p, fmt::format("HTTP {}: {}", status, one_line(message)), retry_after_of(response)};
  };
  if (status == 429) return failure(Problem::rate_limited);
  if (status == 401 || status == 403) return failure(Problem::permanent);
  if (status == 400 || status == 422) return failure(Problem::bad_request);
  return failure(Problem::transient);
}

ProviderFailure malformed(const std::string& what) {
  return {Problem::transient, "malformed response: " + what, std::nullopt};
}

class Google final : public Provider {
 public:
  explicit Google(std::string endpoint) : m_endpoint(std::move(endpoint)) {}
  std::string_view name() const override { return "google"; }
  std::vector<std::string> secret_names() const override {
    return {"GOOGLE_SEARCH_API_KEY", "GOOGLE_SEARCH_ENGINE_ID"};
  }
  std::string_view key_secret() const override { return "GOOGLE_SEARCH_API_KEY"; }

  HttpRequest request(const Query& q, const SecretValues& secrets) const override {
    HttpRequest r;
    r.url =
        fmt::format("{}?key={}&cx={}&q={}&num={}&start={}", m_endpoint, url_encode(secrets.at("GOOGLE_SEARCH_API_KEY")),
                    url_encode(secrets.at("GOOGLE_SEARCH_ENGINE_ID")), url_encode(q.text), q.num, q.start);
    r.headers = {"Accept: application/json"};
    return r;
  }

  std::expected<Page, ProviderFailure> read(const Query&, const HttpResponse& response) const override {
    auto doc = json::parse(response.body, nullptr, false);
    if (response.status != 200) return std::unexpected(error(response, doc));
    if (!doc.is_object()) return std::unexpected(malformed("not a JSON object"));
    Page page;
    // A search with no results has no "items" at all.
    if (auto items = doc.find("items"); items != doc.end()) {
      if (!items->is_array()) return std::unexpected(malformed("\"items\" is not an array"));
      for (const auto& item : *items) {
        if (!item.is_object()) return std::unexpected(malformed("an item is not an object"));
        page.results.push_back(result_of(item, "title", "link", "snippet"));
      }
    }
    if (auto info = doc.find("searchInformation"); info != doc.end() && info->is_object())
      page.total_results = count_of(*info, "totalResults");  // "12300": a string in Google's format
    if (auto queries = doc.find("queries"); queries != doc.end() && queries->is_object()) {
      auto next = queries->find("nextPage");
      if (next != queries->end() && next->is_array() && !next->empty() && (*next)[0].is_object()) {
        auto start = (*next)[0].find("startIndex");
        if (start != (*next)[0].end() && start->is_number_integer()) page.next_start = start->get<int>();
      }
    }
    return page;
  }

 private:
  // Google's error envelope: {"error":{"code":..,"message":..,"errors":[{"reason":..}],"status":..,
  // "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":..,"metadata":{"quota_limit":..}}]}}.
  static ProviderFailure error(const HttpResponse& response, const json& doc) {
    std::string message, status, reason, info_reason, quota_limit;
    if (doc.is_object() && doc.contains("error") && doc["error"].is_object()) {
      const auto& e = doc["error"];
      message = text_of(e, "message");
      status = text_of(e, "status");
      if (auto errors = e.find("errors");
          errors != e.end() && errors->is_array() && !errors->empty() && (*errors)[0].is_object())
        reason = text_of((*errors)[0], "reason");
      if (auto details = e.find("details"); details != e.end() && details->is_array()) {
        for (const auto& d : *details) {
          if (!d.is_object() || text_of(d, "@type") != "type.googleapis.com/google.rpc.ErrorInfo") continue;
          info_reason = text_of(d, "reason");
          if (auto meta = d.find("metadata"); meta != d.end() && meta->is_object())
            quota_limit = text_of(*meta, "quota_limit");
        }
      }
    }
    auto said = one_line(fmt::format("HTTP {}{}{}: {}", response.status, status.empty() ? "" : " " + status,
                                     reason.empty() ? "" : " (" + reason + ")",
                                     message.empty() ? one_line(response.body, 200) : message));
    auto failure = [&](Problem p) { return ProviderFailure{p, said, retry_after_of(response)}; };
    // dailyLimitExceeded comes as 403, sometimes with status PERMISSION_DENIED; today's spent day comes as 429
    // RESOURCE_EXHAUSTED with reason rateLimitExceeded, limit 'Queries per day' (quota_limit
    // DefaultPerDayPerProject): the reason and the limit decide before the status.
    if (reason == "dailyLimitExceeded" || message.find("per day") != std::string::npos ||
        quota_limit.find("PerDay") != std::string::npos)
      return failure(Problem::quota_exhausted);
    // A wrong or blocked key comes as 400 INVALID_ARGUMENT (ErrorInfo API_KEY_INVALID): the key, not the query.
    if (info_reason.starts_with("API_KEY_") || message.starts_with("API key not valid"))
      return failure(Problem::permanent);
    if (response.status == 429 || reason == "rateLimitExceeded" || reason == "userRateLimitExceeded" ||
        status == "RESOURCE_EXHAUSTED")
      return failure(Problem::rate_limited);
    if (response.status == 400) return failure(Problem::bad_request);
    if (response.status == 401 || response.status == 403) return failure(Problem::permanent);
    return failure(Problem::transient);
  }

  std::string m_endpoint;
};

class Searxng final : public Provider {
 public:
  explicit Searxng(std::string endpoint) : m_endpoint(std::move(endpoint)) {}
  std::string_view name() const override { return "searxng"; }
  std::vector<std::string> secret_names() const override { return {}; }
  std::string_view key_secret() const override { return {}; }

  HttpRequest request(const Query& q, const SecretValues&) const override {
    HttpRequest r;
    // SearXNG pages hold about 10 results and cannot be sized: the page that holds `start`, cut to num.
    int pageno = (q.start - 1) / 10 + 1;
    r.url = fmt::format("{}/search?q={}&format=json&pageno={}", m_endpoint, url_encode(q.text), pageno);
    r.headers = {"Accept: application/json"};
    return r;
  }

  std::expected<Page, ProviderFailure> read(const Query& q, const HttpResponse& response) const override {
    if (response.status != 200) {
      auto failure = by_status(response, response.body);
      // An instance whose settings.yml lacks json in search.formats answers 403 to format=json.
      if (response.status == 403) failure.message += " (is json in the instance's search.formats?)";
      return std::unexpected(failure);
    }
    auto doc = json::parse(response.body, nullptr, false);
    if (!doc.is_object()) return std::unexpected(malformed("not a JSON object"));
    auto results = doc.find("results");
    if (results == doc.end() || !results->is_array()) return std::unexpected(malformed("no \"results\" array"));
    Page page;
    int index = 0;
    int skip = (q.start - 1) % 10;
    for (const auto& item : *results) {
      if (!item.is_object()) return std::unexpected(malformed("a result is not an object"));
      if (index++ < skip) continue;
      if (static_cast<int>(page.results.size()) == q.num) break;
      page.results.push_back(result_of(item, "title", "url", "content"));
    }
    if (auto n = doc.find("number_of_results"); n != doc.end() && n->is_number_integer() && n->get<std::int64_t>() > 0)
      page.total_results = n->get<std::int64_t>();
    return page;
  }

 private:
  std::string m_endpoint;
};

constexpr int k_brave_page = 20;

class Brave final : public Provider {
 public:
  explicit Brave(std::string endpoint) : m_endpoint(std::move(endpoint)) {}
  std::string_view name() const override { return "brave"; }
  std::vector<std::string> secret_names() const override { return {"BRAVE_SEARCH_API_KEY"}; }
  std::string_view key_secret() const override { return "BRAVE_SEARCH_API_KEY"; }

  HttpRequest request(const Query& q, const SecretValues& secrets) const override {
    HttpRequest r;
    // Brave's offset counts pages of `count` results (at most 20, offset at most 9): ask for the page of 20
    // that holds `start` and cut it (read()), so any start of 1-91 is served, at worst with fewer results
    // when the wanted ones cross into the next page.
    r.url = fmt::format("{}/res/v1/web/search?q={}&count={}&offset={}", m_endpoint, url_encode(q.text), k_brave_page,
                        (q.start - 1) / k_brave_page);
    r.headers = {"Accept: application/json", "X-Subscription-Token: " + secrets.at("BRAVE_SEARCH_API_KEY")};
    return r;
  }

  std::expected<Page, ProviderFailure> read(const Query& q, const HttpResponse& response) const override {
    auto doc = json::parse(response.body, nullptr, false);
    if (response.status != 200) {
      // {"type":"ErrorResponse","error":{"status":..,"code":"RATE_LIMITED"|"QUOTA_LIMITED"|..,"detail":..,
      // "meta":{"component":..}}}. The code decides before the status: a wrong token comes as 422
      // SUBSCRIPTION_TOKEN_INVALID, the status of a malformed request too.
      std::string code, detail, component;
      if (doc.is_object() && doc.contains("error") && doc["error"].is_object()) {
        const auto& e = doc["error"];
        code = text_of(e, "code");
        detail = text_of(e, "detail");
        if (auto meta = e.find("meta"); meta != e.end() && meta->is_object()) component = text_of(*meta, "component");
      }
      auto failure = by_status(response, code.empty() ? response.body : code + ": " + detail);
      if (code == "QUOTA_LIMITED") failure.problem = Problem::quota_exhausted;
      if (code == "RATE_LIMITED") failure.problem = Problem::rate_limited;
      if (code.starts_with("SUBSCRIPTION_") || component == "authentication") failure.problem = Problem::permanent;
      return std::unexpected(failure);
    }
    if (!doc.is_object()) return std::unexpected(malformed("not a JSON object"));
    Page page;
    auto web = doc.find("web");
    if (web == doc.end() || web->is_null()) return page;  // no web results for this query
    if (!web->is_object()) return std::unexpected(malformed("\"web\" is not an object"));
    if (auto results = web->find("results"); results != web->end()) {
      if (!results->is_array()) return std::unexpected(malformed("\"web.results\" is not an array"));
      int index = 0;
      int skip = (q.start - 1) % k_brave_page;
      for (const auto& item : *results) {
        if (!item.is_object()) return std::unexpected(malformed("a result is not an object"));
        if (index++ < skip) continue;
        if (static_cast<int>(page.results.size()) == q.num) break;
        page.results.push_back(result_of(item, "title", "url", "description"));
      }
    }
    return page;
  }

 private:
  std::string m_endpoint;
};

}  // namespace

std::string_view to_string(Problem problem) {
  switch (problem) {
    case Problem::rate_limited: return "rate limited";
    case Problem::quota_exhausted: return "quota exhausted";
    case Problem::permanent: return "permission denied";
    case Problem::bad_request: return "bad request";
    case Problem::transient: return "unavailable";
  }
  return "unavailable";
}

std::unique_ptr<Provider> make_provider(const std::string& name, const config::SearchProvider& settings) {
  auto endpoint = settings.endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  if (name == "google") return std::make_unique<Google>(endpoint);
  if (name == "searxng") return std::make_unique<Searxng>(endpoint);
  if (name == "brave") return std::make_unique<Brave>(endpoint);
  throw Error(ExitCode::config, "unknown search provider '" + name + "': use google, searxng or brave");
}

std::string redact_url(std::string url) {
  // The Google key, and the engine id, which docs/reference.md section 11 counts among the secrets too.
  for (std::string_view name : {"key=", "cx="}) {
    for (auto at = url.find(name); at != std::string::npos; at = url.find(name, at + 1)) {
      if (at == 0 || (url[at - 1] != '?' && url[at - 1] != '&')) continue;
      auto value = at + name.size();
      auto end = url.find('&', value);
      url.replace(value, (end == std::string::npos ? url.size() : end) - value, "REDACTED");
    }
  }
  return url;
}

std::string url_encode(std::string_view text) {
  std::string out;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::optional<util::Millis> parse_retry_after(std::string_view value, std::int64_t now_ms) {
  std::int64_t seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  // Clamped to a day: a wait that long is beyond any --max-wait anyway, and the product cannot overflow.
  constexpr std::int64_t k_day_seconds = 86'400;
  if (ec == std::errc() && end == value.data() + value.size() && seconds >= 0)
    return util::Millis(std::min(seconds, k_day_seconds) * 1000);
  std::tm tm{};
  std::string text(value);
  const char* parsed = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!parsed || *parsed) return std::nullopt;
  auto at_ms = static_cast<std::int64_t>(::timegm(&tm)) * 1000;
  return util::Millis(std::clamp<std::int64_t>(at_ms - now_ms, 0, k_day_seconds * 1000));
}

}  // namespace oos::search
