// The dashboard's static files (libcommon/api/dashboard/), built into liboos by cmake/embed_files.cmake and
// served at GET / (index.html), /app.js and /app.css with their Content-Type, an ETag and 304 for a matching
// If-None-Match. They hold no data, so they are public like GET /health.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "api/message.hpp"

namespace oos::api {

// A file as embedded at build time: its path ("/index.html") and its bytes.
struct EmbeddedFile {
  std::string_view path;
  std::string_view body;
};

// Every embedded file (defined in the generated dashboard_files.cpp).
std::span<const EmbeddedFile> embedded_files();

// Whether `path` is served without a token: /health and the dashboard's files.
bool is_public_path(std::string_view path);

// The reply for a dashboard file (200 with its body, or 304 when If-None-Match names its ETag; 405 with Allow
// for a method other than GET or HEAD); nullopt when `request.path` is not one of them.
std::optional<Response> static_file(const Request& request);

}  // namespace oos::api
