#include "util/duration.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <utility>

namespace oos::util {
namespace {

struct Unit {
  std::string_view suffix;
  std::uint64_t factor;
};

// Splits "123abc" into its leading integer and the rest.
[[nodiscard]] std::expected<std::pair<std::uint64_t, std::string_view>, std::string> split_number(
    std::string_view text, std::string_view what) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range)
    return std::unexpected("invalid " + std::string(what) + " '" + std::string(text) + "': number too large");
  if (ec != std::errc() || end == text.data())
    return std::unexpected("invalid " + std::string(what) + " '" + std::string(text) +
                           "': expected a number followed by a unit");
  return std::pair{value, text.substr(static_cast<std::size_t>(end - text.data()))};
}

[[nodiscard]] std::expected<std::uint64_t, std::string> scale(std::uint64_t value, std::uint64_t factor,
                                                              std::string_view text, std::string_view what) {
  if (value > std::numeric_limits<std::int64_t>::max() / factor)
    return std::unexpected("invalid " + std::string(what) + " '" + std::string(text) + "': too large");
  return value * factor;
}

}  // namespace

std::expected<Millis, std::string> parse_duration(std::string_view text) {
  static constexpr std::array<Unit, 5> k_units{
      {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}}};
  auto split = split_number(text, "duration");
  if (!split) return std::unexpected(split.error());
  auto [value, suffix] = *split;
  for (const auto& unit : k_units) {
    if (suffix != unit.suffix) continue;
    auto ms = scale(value, unit.factor, text, "duration");
    if (!ms) return std::unexpected(ms.error());
    return Millis(static_cast<std::int64_t>(*ms));
  }
  return std::unexpected("invalid duration '" + std::string(text) + "': unit must be one of ms, s, m, h, d");
}

std::string format_duration(Millis duration) {
  static constexpr std::array<Unit, 4> k_units{{{"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1000}}};
  auto ms = static_cast<std::uint64_t>(duration.count() < 0 ? 0 : duration.count());
  if (ms == 0) return "0s";
  for (const auto& unit : k_units)
    if (ms % unit.factor == 0) return std::to_string(ms / unit.factor) + std::string(unit.suffix);
  return std::to_string(ms) + "ms";
}

std::string format_age(Millis age) {
  auto s = std::max<std::int64_t>(0, age.count() / 1000);
  auto two = [](std::int64_t major, const char* a, std::int64_t minor, const char* b) {
    auto minor_text = std::to_string(minor);
    return std::to_string(major) + a + (minor < 10 ? "0" : "") + minor_text + b;
  };
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return two(s / 60, "m", s % 60, "s");
  if (s < 86'400) return two(s / 3600, "h", s % 3600 / 60, "m");
  return two(s / 86'400, "d", s % 86'400 / 3600, "h");
}

std::expected<std::uint64_t, std::string> parse_size(std::string_view text) {
  static constexpr std::array<Unit, 10> k_units{{{"", 1},
                                                 {"B", 1},
                                                 {"KB", 1ull << 10},
                                                 {"KiB", 1ull << 10},
                                                 {"MB", 1ull << 20},
                                                 {"MiB", 1ull << 20},
                                                 {"GB", 1ull << 30},
                                                 {"GiB", 1ull << 30},
                                                 {"TB", 1ull << 40},
                                                 {"TiB", 1ull << 40}}};
  auto split = split_number(text, "size");
  if (!split) return std::unexpected(split.error());
  auto [value, suffix] = *split;
  for (const auto& unit : k_units)
    if (suffix == unit.suffix) return scale(value, unit.factor, text, "size");
  return std::unexpected("invalid size '" + std::string(text) + "': unit must be one of B, KB, MB, GB, TB");
}

}  // namespace oos::util
