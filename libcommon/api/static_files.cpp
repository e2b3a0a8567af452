#include "api/static_files.hpp"

#include <fmt/format.h>

#include <string>
#include <vector>

#include "api/etag.hpp"
#include "api/problem.hpp"

namespace oos::api {
namespace {

struct StaticFile {
  std::string path;  // as requested: "/" for index.html
  std::string_view body;
  std::string content_type;
  std::string etag;  // entity_tag() of the bytes, computed once
};

std::string content_type_of(std::string_view path) {
  if (path.ends_with(".html")) return "text/html; charset=utf-8";
  if (path.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (path.ends_with(".css")) return "text/css; charset=utf-8";
  if (path.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

const std::vector<StaticFile>& files() {
  static const std::vector<StaticFile> k_files = [] {
    std::vector<StaticFile> out;
    for (const auto& f : embedded_files()) {
      std::string path = f.path == "/index.html" ? std::string("/") : std::string(f.path);
      out.push_back({path, f.body, content_type_of(f.path), entity_tag(f.body)});
    }
    return out;
  }();
  return k_files;
}

const StaticFile* find(std::string_view path) {
  for (const auto& f : files())
    if (f.path == path) return &f;
  return nullptr;
}

}  // namespace

bool is_public_path(std::string_view path) {
  return path == "/health" || find(path) != nullptr;
}

std::optional<Response> static_file(const Request& r) {
  const auto* file = find(r.path);
  if (file == nullptr) return std::nullopt;
  if (r.method != "GET" && r.method != "HEAD") {
    auto reply = problem(405, fmt::format("{} {}: only GET is allowed", r.method, r.path));
    reply.headers.emplace_back("Allow", "GET, HEAD");
    return reply;
  }
  // The browser may keep the file but asks again each time (no-cache): a 304 when it has not changed.
  std::vector<std::pair<std::string, std::string>> headers{
      {"ETag", file->etag}, {"Cache-Control", "no-cache"}, {"Content-Type", file->content_type}};
  if (auto it = r.headers.find("if-none-match"); it != r.headers.end() && none_match_hits(it->second, file->etag))
    return Response{304, std::move(headers), ""};
  return Response{200, std::move(headers), std::string(file->body)};
}

}  // namespace oos::api
