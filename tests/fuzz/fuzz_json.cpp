// Payload checking (enqueue, batch lines) and plain text of search results.
#include "fuzz/fuzz.hpp"
#include "search/plain_text.hpp"
#include "util/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = oos::fuzz::text_of(data, size);
  (void)oos::util::check_json(text);
  (void)oos::search::plain_text(text);
  return 0;
}
