// Bytes as lower-case hex: digests, fingerprints and random tokens.
#pragma once

#include <span>
#include <string>

namespace oos::util {

// Two lower-case hex digits per byte, in order.
inline std::string to_hex(std::span<const unsigned char> bytes) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    hex += k_hex[b >> 4];
    hex += k_hex[b & 0xf];
  }
  return hex;
}

}  // namespace oos::util
