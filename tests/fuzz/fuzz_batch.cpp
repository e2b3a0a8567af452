// A line of `oos-queue enqueue --batch`: a task or an oos::Error (exit 65), nothing else.
#include "error.hpp"
#include "fuzz/fuzz.hpp"
#include "queue/batch_line.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)oos::queue::parse_batch_line(oos::fuzz::text_of(data, size), 1, "default");
  } catch (const oos::Error&) {
  }
  return 0;
}
