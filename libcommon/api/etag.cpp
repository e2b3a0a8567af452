#include "api/etag.hpp"

#include "util/sha256.hpp"

namespace oos::api {
namespace {

// Hex digits of the digest kept: 128 bits, far beyond any chance of two states of a resource colliding.
constexpr std::size_t k_tag_digits = 32;

std::string_view trimmed(std::string_view text) {
  auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

}  // namespace

std::string entity_tag(std::string_view body) {
  return "\"" + util::sha256_hex(body).substr(0, k_tag_digits) + "\"";
}

bool none_match_hits(std::string_view header, std::string_view tag) {
  if (tag.starts_with("W/")) tag.remove_prefix(2);
  while (true) {
    auto comma = header.find(',');
    auto item = trimmed(header.substr(0, comma));
    if (item == "*") return true;
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (!item.empty() && item == tag) return true;
    if (comma == std::string_view::npos) return false;
    header.remove_prefix(comma + 1);
  }
}

}  // namespace oos::api
