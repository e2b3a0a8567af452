// The search providers behind one interface (docs/reference.md section 17): each builds its HTTP request
// from a query and its secrets and reads the provider's wire format, success or error, into a Page of plain-text
// results or a classified failure (the provider's own code or reason decides before the HTTP status). Pure apart from
// the interface: no I/O here (http.hpp sends, client.hpp decides).
#pragma once

#include <expected>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "search/http.hpp"
#include "util/duration.hpp"

namespace oos::search {

struct Query {
  std::string text;
  int num = 10;   // results wanted, 1-10
  int start = 1;  // 1-based index of the first result
};

// One result. Title and snippet are plain text (plain_text.hpp), whatever markup the provider sent.
struct Result {
  std::string title;
  std::string link;
  std::string snippet;
};

struct Page {
  std::vector<Result> results;
  std::optional<std::int64_t> total_results;
  std::optional<int> next_start;  // the start of the next page, when the provider says there is one
};

// What a failed request means for the client.
enum class Problem {
  rate_limited,     // slow down (429, rateLimitExceeded, RESOURCE_EXHAUSTED per minute): wait, else move on
  quota_exhausted,  // the day's quota is spent (dailyLimitExceeded): move on until the reset
  permanent,        // this provider will not serve us (PERMISSION_DENIED, a bad key): move on, do not retry
  bad_request,      // the query itself is wrong (400): stop, exit 65
  transient,        // 5xx, timeout, connection failure, malformed body: retry with backoff, then move on
};

std::string_view to_string(Problem problem);

struct ProviderFailure {
  Problem problem = Problem::transient;
  std::string message;                      // what the provider said, one line
  std::optional<util::Millis> retry_after;  // from a Retry-After header
};

// Secret values by name, as the provider asked for them (secret_names()).
using SecretValues = std::map<std::string, std::string>;

class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string_view name() const = 0;
  // The secrets a request needs; all must be present for the provider to be usable.
  virtual std::vector<std::string> secret_names() const = 0;
  // Which of secret_names() is the API key, which a key ring may give instead (search/provider_keys.hpp); empty
  // for a provider without a key.
  virtual std::string_view key_secret() const = 0;
  virtual HttpRequest request(const Query& query, const SecretValues& secrets) const = 0;
  // Reads the response (any status) to `query` into a page or a failure.
  virtual std::expected<Page, ProviderFailure> read(const Query& query, const HttpResponse& response) const = 0;
};

// "google", "searxng" or "brave" with its [search.<name>] settings. Another name is a configuration error
// (oos::Error 78; the config loader already refuses one in search.providers).
std::unique_ptr<Provider> make_provider(const std::string& name, const config::SearchProvider& settings);

// `url` with the values of its `key=` and `cx=` query parameters replaced by REDACTED: what logs and errors show.
std::string redact_url(std::string url);

// Percent-encodes `text` for a URL query (RFC 3986 unreserved characters stay).
std::string url_encode(std::string_view text);

// The seconds of a Retry-After value: delta-seconds or an HTTP-date (RFC 9110), relative to `now_ms`;
// nullopt when it is neither.
std::optional<util::Millis> parse_retry_after(std::string_view value, std::int64_t now_ms);

}  // namespace oos::search
