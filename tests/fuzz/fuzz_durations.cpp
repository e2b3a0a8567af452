// Durations and sizes as the config and the command line give them.
#include "fuzz/fuzz.hpp"
#include "util/duration.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = oos::fuzz::text_of(data, size);
  if (auto d = oos::util::parse_duration(text)) (void)oos::util::format_duration(*d);
  (void)oos::util::parse_size(text);
  return 0;
}
