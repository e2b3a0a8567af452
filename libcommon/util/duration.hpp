// Parsing and printing of durations ("500ms", "30s", "5m", "6h", "7d") and sizes ("10MB").
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

namespace oos::util {

using Millis = std::chrono::milliseconds;

// Parses a non-negative duration: an integer followed by ms, s, m, h or d ("90s", "7d").
// A bare number is rejected: the unit is required so that "30" is never misread.
[[nodiscard]] std::expected<Millis, std::string> parse_duration(std::string_view text);

// Prints a duration in the largest unit that divides it exactly ("90s", "2h", "0s").
std::string format_duration(Millis duration);

// An elapsed time for people, in its two largest units, rounded down: "42s", "3m12s", "13h05m", "2d01h".
std::string format_age(Millis age);

// Parses a size: an integer with an optional unit B, KB, MB, GB, TB (powers of 1024; KiB, MiB, ... are
// accepted as synonyms). Returns bytes.
[[nodiscard]] std::expected<std::uint64_t, std::string> parse_size(std::string_view text);

}  // namespace oos::util
