#include "util/name.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace oos::util {

bool is_plain_name(std::string_view name) {
  constexpr std::size_t k_max = 64;
  return !name.empty() && name.size() <= k_max && std::ranges::all_of(name, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.' || c == ':';
  });
}

namespace {

// The length of the valid UTF-8 sequence at the start of `text`, 0 when it does not start with one.
std::size_t utf8_length(std::string_view text) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  auto lead = byte(0);
  std::size_t length = lead < 0x80                    ? 1
                       : lead >= 0xc2 && lead <= 0xdf ? 2
                       : lead >= 0xe0 && lead <= 0xef ? 3
                       : lead >= 0xf0 && lead <= 0xf4 ? 4
                                                      : 0;
  if (length == 0 || length > text.size()) return 0;
  for (std::size_t i = 1; i < length; ++i)
    if ((byte(i) & 0xc0) != 0x80) return 0;
  return length;
}

}  // namespace

std::string cut_for_message(std::string_view text) {
  constexpr std::size_t k_max = 64;
  std::string out;
  std::size_t i = 0;
  while (i < text.size() && i < k_max) {
    auto length = utf8_length(text.substr(i));
    auto byte = static_cast<unsigned char>(text[i]);
    bool control =
        byte < 0x20 || byte == 0x7f || (length == 2 && byte == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0);
    if (length == 0 || control) {
      // A byte that is not UTF-8 text, or a control character (C0, DEL, C1): shown, never sent as it is.
      for (std::size_t j = 0; j < std::max<std::size_t>(length, 1); ++j)
        out += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[i + j]));
      i += std::max<std::size_t>(length, 1);
      continue;
    }
    if (i + length > k_max) break;  // never cut a character
    out.append(text.substr(i, length));
    i += length;
  }
  return i < text.size() ? out + "…" : out;
}

}  // namespace oos::util
