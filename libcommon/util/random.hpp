// Randomness: unguessable tokens from the kernel, and a cheap seeded generator for jitter.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

namespace oos::util {

// `count` random bytes from getrandom(2) as lower-case hex (32 characters by default): a lease token no other
// worker can guess or reuse, the API's CSRF token (32 bytes).
std::string random_token(std::size_t count = 16);

// A fast generator for jitter and busy back-off; seeded from getrandom(2) unless a seed is given.
class Rng {
 public:
  Rng();
  explicit Rng(std::uint64_t seed) : m_engine(seed) {}
  // Uniform in [0, 1).
  double fraction();
  // Uniform in [low, high].
  std::uint32_t between(std::uint32_t low, std::uint32_t high);

 private:
  std::mt19937_64 m_engine;
};

}  // namespace oos::util
