#include "api/access.hpp"

#include <algorithm>
#include <cctype>

#include "api/problem.hpp"
#include "util/constant_time.hpp"

namespace oos::api {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool reads_only(const Request& r) {
  return r.method == "GET" || r.method == "HEAD";
}

std::optional<std::string> header(const Request& r, const std::string& name) {
  auto it = r.headers.find(name);
  if (it == r.headers.end()) return std::nullopt;
  return it->second;
}

// Why a browser's write is refused, or nullopt: the checks of refuse_browser_write() in order.
std::optional<std::string> browser_write_fault(const Request& r, std::string_view csrf_token) {
  if (auto site = header(r, "sec-fetch-site")) {
    auto value = lower(*site);
    if (value != "same-origin" && value != "none")
      return "a write from a page of another origin (Sec-Fetch-Site: " + *site +
             ") is refused: send it from a page oos-api serves, or from a client that sends no Origin (curl, a "
             "script)";
  }
  if (auto origin = header(r, "origin")) {
    if (lower(*origin) == "null")
      return "a write with 'Origin: null' (a sandboxed, file: or redirected page) is refused: send it from a page "
             "oos-api serves";
    auto scheme = origin->find("://");
    auto host = header(r, "host");
    if (scheme == std::string::npos || !host || lower(origin->substr(scheme + 3)) != lower(*host))
      return "the Origin '" + *origin + "' is not this server ('" + host.value_or("no Host header") +
             "'): send the write from a page oos-api serves (behind a proxy, pass the Host header on as the browser "
             "sent it)";
  }
  auto token = header(r, "x-csrf-token");
  if (!token) return "a write from a browser needs the header X-CSRF-Token: read its value with GET /api/v1/csrf";
  if (csrf_token.empty()) return "this server has no CSRF token, so it refuses every write from a browser";
  if (!util::equal_in_constant_time(*token, csrf_token))
    return "X-CSRF-Token is not this server's CSRF token (a new one is made each time oos-api starts): read it "
           "again with GET /api/v1/csrf";
  return std::nullopt;
}

Access refuse(int status, const std::string& detail) {
  auto reply = problem(status, detail);
  if (status == 401) reply.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"oos\"");
  return {Role::anonymous, std::move(reply)};
}

}  // namespace

std::string_view to_string(Role role) {
  switch (role) {
    case Role::anonymous: return "anonymous";
    case Role::readonly: return "readonly";
    case Role::admin: return "admin";
  }
  return "anonymous";
}

std::vector<std::string> default_allowed_hosts(std::string_view listen_address) {
  std::vector<std::string> hosts{"localhost", "127.0.0.1", "::1"};
  auto host = host_of(listen_address);
  if (!host.empty() && std::ranges::find(hosts, host) == hosts.end()) hosts.push_back(host);
  return hosts;
}

std::vector<std::string> allowed_hosts(std::string_view listen_address, std::span<const std::string> configured) {
  auto hosts = default_allowed_hosts(listen_address);
  for (const auto& name : configured)
    if (std::ranges::find(hosts, lower(name)) == hosts.end()) hosts.push_back(lower(name));
  return hosts;
}

std::optional<Response> refuse_browser_write(const Request& r, std::string_view csrf_token) {
  if (reads_only(r) || (!r.headers.contains("origin") && !r.headers.contains("sec-fetch-site"))) return std::nullopt;
  if (auto fault = browser_write_fault(r, csrf_token)) return problem(403, *fault);
  return std::nullopt;
}

std::string host_of(std::string_view header) {
  if (header.starts_with('[')) {
    auto close = header.find(']');
    return lower(header.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  auto colon = header.find(':');
  // More than one colon without brackets: a bare IPv6 address, no port.
  if (colon != std::string_view::npos && header.find(':', colon + 1) == std::string_view::npos)
    header = header.substr(0, colon);
  return lower(header);
}

Access authorize(const Request& r, const AccessSettings& s, bool public_path, std::string_view csrf_token) {
  if (auto host = r.headers.find("host"); host != r.headers.end()) {
    auto name = host_of(host->second);
    bool allowed = std::ranges::any_of(s.allowed_hosts, [&](const std::string& h) { return lower(h) == name; });
    if (!allowed)
      return refuse(421,
                    "host '" + name +
                        "' is not in the allowed hosts: use an address oos-api serves or add it to api.allowed_hosts");
  }
  // Before the token: a write a page of another site forged is refused whatever credentials came with it.
  if (auto forged = refuse_browser_write(r, csrf_token)) return {Role::anonymous, std::move(*forged)};
  auto authorization = r.headers.find("authorization");
  if (authorization == r.headers.end()) {
    if (public_path && reads_only(r)) return {Role::anonymous, std::nullopt};
    if (s.admin_token || s.readonly_token)
      return refuse(401,
                    "this request needs a token: send 'Authorization: Bearer TOKEN' with the secret "
                    "OOS_API_TOKEN or OOS_API_READONLY_TOKEN");
    if (!r.peer_loopback)
      return refuse(403,
                    "no API token is configured, so only GET from loopback is served: set the secret "
                    "OOS_API_TOKEN (or OOS_API_READONLY_TOKEN) and restart oos-api");
    if (!reads_only(r))
      return refuse(403,
                    "writes need the admin token, and none is configured: set the secret OOS_API_TOKEN and restart "
                    "oos-api");
    return {Role::anonymous, std::nullopt};
  }
  const std::string_view scheme = "bearer ";
  std::string_view value = authorization->second;
  if (value.size() <= scheme.size() || lower(value.substr(0, scheme.size())) != scheme)
    return refuse(401, "the Authorization header must be 'Bearer TOKEN'");
  auto token = value.substr(scheme.size());
  // Both compared every time, so that the time does not tell which token matched.
  bool admin = s.admin_token && util::equal_in_constant_time(token, *s.admin_token);
  bool readonly = s.readonly_token && util::equal_in_constant_time(token, *s.readonly_token);
  if (admin) return {Role::admin, std::nullopt};
  if (!readonly)
    return refuse(401,
                  "the bearer token is neither OOS_API_TOKEN nor OOS_API_READONLY_TOKEN: send one of them (oos-api "
                  "reads them when it starts)");
  if (!reads_only(r)) return refuse(403, "the read-only token cannot write: use OOS_API_TOKEN");
  return {Role::readonly, std::nullopt};
}

}  // namespace oos::api
