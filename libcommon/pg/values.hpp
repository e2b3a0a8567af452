// Values to and from PostgreSQL's text format: array literals for `= ANY($1::text[])` (a list is bound as one
// parameter, never spelled into the SQL) and numbers read back from a Result.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "pg/connection.hpp"

namespace oos::pg {

// `values` as a text array literal: {"a","b\"c"} (every element quoted, '"' and '\' escaped).
std::string text_array(std::span<const std::string> values);

// `values` as an array literal of integers: {1,-2,3}.
std::string int_array(std::span<const std::int64_t> values);

// Whether PostgreSQL's text can hold `text` as it is: valid UTF-8 as the server judges it (no overlong forms, no
// surrogates, nothing above U+10FFFF) without a NUL byte.
bool is_storable_text(std::string_view text);
// `text` with each NUL byte and each byte that does not begin a valid UTF-8 sequence replaced by U+FFFD: what a
// text column holds of bytes it cannot hold (raw handler output; SQLite keeps them as they are).
std::string storable_text(std::string_view text);

// A number as a bound parameter.
inline Param param(std::int64_t value) {
  return std::to_string(value);
}

// A double as a bound parameter: the shortest text that reads back as the same value.
Param param_real(double value);

// The integer at `row`, `column`; throws oos::Error 70 when it is not one (a bug in our SQL).
std::int64_t int_at(const Result& result, int row, int column);
// The same, or nullopt for NULL.
std::optional<std::int64_t> opt_int_at(const Result& result, int row, int column);
// The double precision value at `row`, `column`; throws oos::Error 70 when it is not a number.
double double_at(const Result& result, int row, int column);

}  // namespace oos::pg
