// Who may do what over HTTP (docs/reference.md section 8.10): the Host allowlist, then the bearer tokens.
// Pure: the tokens and the allowed hosts are passed in.
#pragma once

#include <optional>
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
                                              // default_allowed_hosts() until a config key exists
};

// The loopback names (localhost, 127.0.0.1, ::1) and the host of `listen_address` ("ADDR:PORT").
std::vector<std::string> default_allowed_hosts(std::string_view listen_address);

// The host of a Host header, lower case, without the port and without IPv6 brackets: "[::1]:8765" -> "::1".
std::string host_of(std::string_view host_header);

// Either the role the request acts with, or the reply that refuses it:
// - a Host header not in allowed_hosts: 421 (DNS rebinding: the name the browser resolved is not ours);
// - an Authorization header that is not "Bearer " + a configured token: 401 with WWW-Authenticate;
// - no Authorization: `public_path` (GET /health) passes; with a token configured 401; with none, a loopback
//   peer may GET (anonymous), anything else is 403;
// - a write (any method but GET and HEAD) needs the admin token: the read-only one is 403.
struct Access {
  Role role = Role::anonymous;
  std::optional<Response> refusal;
};
Access authorize(const Request& request, const AccessSettings& settings, bool public_path);

}  // namespace oos::api
