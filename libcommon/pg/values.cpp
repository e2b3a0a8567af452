#include "pg/values.hpp"

#include <charconv>

#include "error.hpp"

namespace oos::pg {

std::string text_array(std::span<const std::string> values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (const char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string int_array(std::span<const std::int64_t> values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i > 0 ? "," : "") + std::to_string(values[i]);
  return out + "}";
}

std::int64_t int_at(const Result& result, int row, int column) {
  const std::string_view text = result.text(row, column);
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    throw Error(ExitCode::software, "PostgreSQL returned '" + std::string(text.substr(0, 32)) + "' for an integer");
  return value;
}

std::optional<std::int64_t> opt_int_at(const Result& result, int row, int column) {
  if (result.is_null(row, column)) return std::nullopt;
  return int_at(result, row, column);
}

}  // namespace oos::pg
