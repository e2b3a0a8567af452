// Errors of the HTTP API as RFC 9457 problem documents, and the one mapping from exit codes to HTTP statuses.
#pragma once

#include <string>
#include <string_view>

#include "api/message.hpp"
#include "error.hpp"

namespace oos::api {

// The HTTP status for a failure the CLI would report with exit code `code` (docs/reference.md, HTTP API):
// usage and data errors 400, no such queue, task or file 404, a task in the wrong state (1) 409, busy (75)
// and unavailable (69) 503, everything else (I/O, config, internal) 500. Pure.
int http_status(ExitCode code);

// The reason phrase of `status` ("Not Found"); "Error" for a status this API does not send.
std::string_view reason_phrase(int status);

// An application/problem+json reply: {"type":"about:blank","title":reason_phrase(status),"status",
// "detail":detail}, `detail` being the CLI's message for the same failure.
Response problem(int status, const std::string& detail);

// Adds the headers every reply carries: X-Content-Type-Options: nosniff, Cache-Control: no-store (unless the reply
// has its own, as the dashboard's files) and Content-Security-Policy: default-src 'self'.
void add_security_headers(Response& reply);

}  // namespace oos::api
