// Checking that text is one valid JSON document, with an error that says where and why it is not.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace oos::util {

// Ok when `text` is exactly one JSON value (surrounding whitespace allowed). Otherwise an error such as
// "not valid JSON at offset 12: unexpected '}'".
[[nodiscard]] std::expected<void, std::string> check_json(std::string_view text);

// `text` as a JSON string literal, with quotes and escapes; invalid UTF-8 is replaced by U+FFFD.
std::string json_quote(std::string_view text);

}  // namespace oos::util
