// The engine check of `make fuzz` (scripts/fuzz): a planted bug behind a magic string, one branch per byte,
// that random inputs practically never reach (1 in 2^48) and coverage-guided fuzzing finds in seconds, each
// matching byte being a new edge. If libFuzzer stops getting coverage from gcc_coverage.cpp, this is no
// longer found and `make fuzz` fails instead of reporting hours of blind runs as clean.
#include <cstdlib>

#include "fuzz/fuzz.hpp"

namespace {

// Written between the comparisons so that the compiler cannot merge them into one wide compare.
volatile int g_depth = 0;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Spelled out, not a loop: each byte must be its own branch (a loop would be one edge hit more often).
  if (size < 6) return 0;
  if (data[0] != 'F') return 0;
  g_depth = 1;
  if (data[1] != 'U') return 0;
  g_depth = 2;
  if (data[2] != 'Z') return 0;
  g_depth = 3;
  if (data[3] != 'Z') return 0;
  g_depth = 4;
  if (data[4] != '!') return 0;
  g_depth = 5;
  if (data[5] != 'x') return 0;
  std::abort();
}
