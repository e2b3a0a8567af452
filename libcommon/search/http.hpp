// HTTP GET over libcurl, through RAII handles: TLS peer and host verification always on (no option turns
// them off), http and https only, no redirects followed, connect and total timeouts, the body capped.
#pragma once

#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "util/duration.hpp"
#include "util/time.hpp"

namespace oos::search {

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  util::Millis connect_timeout{5'000};
  util::Millis timeout{15'000};  // the whole exchange
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::optional<std::string> retry_after;  // the Retry-After header's value, if any
  util::UnixMillis received_at =
      0;  // when it arrived (stamped by the caller's Clock): a Retry-After date counts from it
};

enum class HttpErrorKind { timeout, connect, other };

struct HttpError {
  HttpErrorKind kind = HttpErrorKind::other;
  std::string message;  // curl's description; never the URL
};

// The largest body read; a longer one is an error.
inline constexpr std::size_t k_max_body_bytes = 4u << 20;

std::expected<HttpResponse, HttpError> http_get(const HttpRequest& request);

// How the search client sends a request: http_get, or a fake in tests.
using HttpGet = std::function<std::expected<HttpResponse, HttpError>(const HttpRequest&)>;

}  // namespace oos::search
