// The entry point every fuzz target defines (libFuzzer's and AFL++'s convention): it must accept any input
// without crashing, hanging or leaking; expected failures are values or oos::Error, never anything else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace oos::fuzz {

inline std::string_view text_of(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace oos::fuzz
