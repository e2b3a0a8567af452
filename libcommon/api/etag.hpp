// Entity tags of the API's GET replies (docs/reference.md section 8.10): a reply's tag is a hash of its body,
// so a client that polls can send If-None-Match and get 304 without the body while nothing changed. Pure.
#pragma once

#include <string>
#include <string_view>

namespace oos::api {

// The strong entity tag of `body`: the first 128 bits of its SHA-256 as 32 lower-case hex digits, in double
// quotes.
std::string entity_tag(std::string_view body);

// Whether an If-None-Match header matches `tag` (RFC 9110 13.1.2, weak comparison): it is "*", or a
// comma-separated list holding `tag`, with or without the W/ prefix.
bool none_match_hits(std::string_view if_none_match, std::string_view tag);

}  // namespace oos::api
