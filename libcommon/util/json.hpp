// Checking that text is one valid JSON document, with an error that says where and why it is not.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <string_view>

namespace oos::util {

// How deeply arrays and objects may nest in a JSON document we accept (payloads, batch lines). Copying or
// printing a parsed document recurses once per level, so an unbounded depth would overflow the stack.
inline constexpr std::size_t k_max_json_depth = 65;

// Whether no array or object in `text` nests deeper than `max_depth` levels ("[[1]]" is 2). A scan of the
// text without parsing or recursion, safe on any input; brackets inside strings do not count.
[[nodiscard]] bool json_depth_within(std::string_view text, std::size_t max_depth = k_max_json_depth);

// Ok when `text` is exactly one JSON value (surrounding whitespace allowed, no NUL byte anywhere) nested at most
// k_max_json_depth levels. Otherwise an error such as "not valid JSON at offset 12: unexpected '}'" or "nested deeper
// than 65 levels".
[[nodiscard]] std::expected<void, std::string> check_json(std::string_view text);

// `text` as a JSON string literal, with quotes and escapes; invalid UTF-8 is replaced by U+FFFD.
std::string json_quote(std::string_view text);

}  // namespace oos::util
