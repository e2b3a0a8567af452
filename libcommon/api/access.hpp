// Who may do what over HTTP (docs/reference.md section 8.10): the Host allowlist, then a browser's write
// (Sec-Fetch-Site, Origin, the CSRF token), then the bearer tokens. Pure: the tokens and the allowed hosts are
// passed in.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "api/message.hpp"

namespace oos::api {

// What a request's credentials allow. `anonymous`: no token configured, a loopback peer, GET only.
enum class Role { anonymous, readonly, admin };

// "anonymous", "readonly", "admin": how events name who did a write (never the token).
std::string_view to_string(Role role);

struct AccessSettings {
  std::optional<std::string> admin_token;     // the secret OOS_API_TOKEN
  std::optional<std::string> readonly_token;  // the secret OOS_API_READONLY_TOKEN
  std::vector<std::string> allowed_hosts;     // Host header names (without port), compared case-insensitively:
                                              // allowed_hosts() of the listen address and api.allowed_hosts
};

// The loopback names (localhost, 127.0.0.1, ::1) and the host of `listen_address` ("ADDR:PORT").
std::vector<std::string> default_allowed_hosts(std::string_view listen_address);

// default_allowed_hosts(listen_address) and then the configured names (api.allowed_hosts) not already in it.
std::vector<std::string> allowed_hosts(std::string_view listen_address, std::span<const std::string> configured);

// The host of a Host header, lower case, without the port and without IPv6 brackets: "[::1]:8765" -> "::1".
std::string host_of(std::string_view host_header);

// A write (any method but GET and HEAD) that carries Origin or Sec-Fetch-Site comes from a browser, which a page
// of another site can make send it: it is refused (403, the detail naming the check and what to do) unless
// Sec-Fetch-Site, when present, is same-origin or none, Origin, when present, is not "null" and is
// scheme://HOST with HOST equal to the Host header (case ignored), and X-CSRF-Token equals `csrf_token`
// (compared in constant time; an empty `csrf_token` refuses them all). Reads, and writes with neither header
// (curl, scripts: their bearer token is not sent by a browser on its own), pass: nullopt.
std::optional<Response> refuse_browser_write(const Request& request, std::string_view csrf_token);

// Either the role the request acts with, or the reply that refuses it, checked in this order:
// - a Host header not in allowed_hosts: 421 (DNS rebinding: the name the browser resolved is not ours);
// - a browser's write that refuse_browser_write() refuses: 403, whatever token it carries;
// - an Authorization header that is not "Bearer " + a configured token: 401 with WWW-Authenticate;
// - no Authorization: `public_path` (GET /health) passes; with a token configured 401; with none, a loopback
//   peer may GET (anonymous), anything else is 403;
// - a write (any method but GET and HEAD) needs the admin token: the read-only one is 403.
struct Access {
  Role role = Role::anonymous;
  std::optional<Response> refusal;
};
// `csrf_token` is the Router's (GET /api/v1/csrf), passed to refuse_browser_write().
Access authorize(const Request& request, const AccessSettings& settings, bool public_path, std::string_view csrf_token);

}  // namespace oos::api
