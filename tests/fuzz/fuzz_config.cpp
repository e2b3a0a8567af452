// The config loader: any text is a Config or an oos::Error (exit 78), nothing else.
#include "config.hpp"
#include "error.hpp"
#include "fuzz/fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    oos::config::parse_config(std::string(oos::fuzz::text_of(data, size)), "fuzz.toml");
  } catch (const oos::Error&) {
  }
  return 0;
}
