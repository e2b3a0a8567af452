// Edge coverage for libFuzzer from GCC's -fsanitize-coverage=trace-pc (docs/reliability.md, "Fuzzing").
// GCC calls __sanitizer_cov_trace_pc() at the start of every basic block; libFuzzer 14 no longer accepts that
// callback (its own definition prints "no longer supported" and exits; the build weakens it, so this one wins)
// and reads coverage only from 8-bit counter arrays registered with __sanitizer_cov_8bit_counters_init, as
// clang's inline-8bit-counters instrumentation does. This file bridges the two: each callback hashes its
// caller's address (the block) into one of k_counters counters, AFL-style. The PC table registered beside
// them gives slot i the fake "PC" i + 1, so that libFuzzer's `cov:` counts the slots hit.
// trace-cmp needs no shim: libFuzzer implements __sanitizer_cov_trace_cmp*, _const_cmp* and _switch, which
// GCC emits under the same names. This file must be compiled WITHOUT -fsanitize-coverage (it would call
// itself) and without the sanitizers (it runs on every block).
#include <cstddef>
#include <cstdint>

extern "C" {
void __sanitizer_cov_8bit_counters_init(std::uint8_t* begin, std::uint8_t* end);
void __sanitizer_cov_pcs_init(const std::uintptr_t* begin, const std::uintptr_t* end);
// The callback GCC inserts at every basic block of code built with -fsanitize-coverage=trace-pc.
void __sanitizer_cov_trace_pc();
// GCC's trace-cmp also traces float compares, which libFuzzer does not use.
void __sanitizer_cov_trace_cmpf(float, float);
void __sanitizer_cov_trace_cmpd(double, double);
}

namespace {

constexpr unsigned k_counter_bits = 16;
constexpr std::size_t k_counters = std::size_t{1} << k_counter_bits;

// One entry of the PC table libFuzzer expects beside the counters: the block's address and flags (1: entry).
struct PcEntry {
  std::uintptr_t pc;
  std::uintptr_t flags;
};

alignas(4096) std::uint8_t g_counters[k_counters];
PcEntry g_pcs[k_counters];

// Registers the counters before main, where libFuzzer's driver finds them (as clang's module constructors do).
__attribute__((constructor)) void register_counters() {
  for (std::size_t i = 0; i < k_counters; ++i) g_pcs[i] = {i + 1, 0};
  __sanitizer_cov_8bit_counters_init(g_counters, g_counters + k_counters);
  __sanitizer_cov_pcs_init(&g_pcs[0].pc, &g_pcs[0].pc + 2 * k_counters);
}

}  // namespace

void __sanitizer_cov_trace_pc() {
  auto pc = reinterpret_cast<std::uintptr_t>(__builtin_return_address(0));
  auto slot = static_cast<std::size_t>((pc * 0x9E3779B97F4A7C15ULL) >> (64 - k_counter_bits));
  g_counters[slot] = static_cast<std::uint8_t>(g_counters[slot] + 1);
}

void __sanitizer_cov_trace_cmpf(float, float) {}
void __sanitizer_cov_trace_cmpd(double, double) {}
