#include "util/json.hpp"

#include <nlohmann/json.hpp>

namespace oos::util {
namespace {

// nlohmann's parse errors read "[json.exception.parse_error.101] parse error at line 1, column 13:
// syntax error while parsing value - unexpected '}'; expected ...": keep only the cause.
std::string cause_of(const std::string& what) {
  auto pos = what.find(" - ");
  std::string cause = pos == std::string::npos ? what : what.substr(pos + 3);
  if (auto semicolon = cause.find("; "); semicolon != std::string::npos) cause.resize(semicolon);
  return cause;
}

}  // namespace

bool json_depth_within(std::string_view text, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

std::expected<void, std::string> check_json(std::string_view text) {
  if (!json_depth_within(text))
    return std::unexpected("nested deeper than " + std::to_string(k_max_json_depth) + " levels");
  // nlohmann's lexer takes a NUL byte for the end of the input, so "{}\0anything" would pass; JSON text never
  // holds one (in a string it is written \u0000).
  if (auto nul = text.find('\0'); nul != std::string_view::npos)
    return std::unexpected("not valid JSON at offset " + std::to_string(nul) + ": a NUL byte");
  try {
    auto ignored = nlohmann::json::parse(text.begin(), text.end());
    (void)ignored;
    return {};
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte counts from 1 and points past the offending character; report a 0-based offset.
    auto offset = e.byte > 0 ? e.byte - 1 : 0;
    return std::unexpected("not valid JSON at offset " + std::to_string(offset) + ": " + cause_of(e.what()));
  } catch (const nlohmann::json::out_of_range& e) {
    // A number beyond double ("1e400") is out_of_range 406, not a parse error, and says no offset.
    std::string what = e.what();
    auto end = what.find("] ");
    return std::unexpected("not valid JSON: " + (end == std::string::npos ? what : what.substr(end + 2)));
  }
}

std::string json_quote(std::string_view text) {
  // Invalid UTF-8 (raw handler output) becomes U+FFFD rather than an exception in the middle of logging.
  return nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace oos::util
