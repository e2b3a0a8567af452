#include "api/static_files.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <vector>

#include "api/problem.hpp"

namespace oos::api {
namespace {

struct StaticFile {
  std::string path;  // as requested: "/" for index.html
  std::string_view body;
  std::string content_type;
  std::string etag;  // a strong ETag: FNV-1a of the bytes, computed once
};

std::string content_type_of(std::string_view path) {
  if (path.ends_with(".html")) return "text/html; charset=utf-8";
  if (path.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (path.ends_with(".css")) return "text/css; charset=utf-8";
  if (path.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

std::string etag_of(std::string_view body) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (char c : body) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return fmt::format("\"{:016x}-{:x}\"", hash, body.size());
}

const std::vector<StaticFile>& files() {
  static const std::vector<StaticFile> k_files = [] {
    std::vector<StaticFile> out;
    for (const auto& f : embedded_files()) {
      std::string path = f.path == "/index.html" ? std::string("/") : std::string(f.path);
      out.push_back({path, f.body, content_type_of(f.path), etag_of(f.body)});
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

// Whether If-None-Match (a list of ETags, or *) names `etag`; a weak W/ prefix compares equal (RFC 9110 13.1.2).
bool matches(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    auto comma = header.find(',');
    auto item = header.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == "*" || item == etag) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
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
  if (auto it = r.headers.find("if-none-match"); it != r.headers.end() && matches(it->second, file->etag))
    return Response{304, std::move(headers), ""};
  return Response{200, std::move(headers), std::string(file->body)};
}

}  // namespace oos::api
