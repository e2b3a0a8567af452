#include "api/problem.hpp"

#include <nlohmann/json.hpp>

namespace oos::api {

int http_status(ExitCode code) {
  switch (code) {
    case ExitCode::ok: return 200;
    case ExitCode::usage:
    case ExitCode::data_error: return 400;
    case ExitCode::no_input: return 404;
    case ExitCode::problem_reported:
    case ExitCode::problem_unfixed: return 409;
    case ExitCode::unavailable:
    case ExitCode::temp_fail: return 503;
    case ExitCode::unknown:
    case ExitCode::software:
    case ExitCode::io_error:
    case ExitCode::config: return 500;
  }
  return 500;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 421: return "Misdirected Request";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

Response problem(int status, const std::string& detail) {
  nlohmann::json doc{{"type", "about:blank"}, {"title", reason_phrase(status)}, {"status", status}, {"detail", detail}};
  return {status,
          {{"Content-Type", "application/problem+json"}},
          doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"};
}

void add_security_headers(Response& reply) {
  reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
  // The dashboard's files set their own (no-cache: kept, revalidated with their ETag); nothing else is kept.
  bool has_cache_control = false;
  for (const auto& [name, value] : reply.headers) has_cache_control = has_cache_control || name == "Cache-Control";
  if (!has_cache_control) reply.headers.emplace_back("Cache-Control", "no-store");
  reply.headers.emplace_back("Content-Security-Policy", "default-src 'self'");
}

}  // namespace oos::api
