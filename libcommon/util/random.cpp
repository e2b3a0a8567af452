#include "util/random.hpp"

#include <sys/random.h>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "util/hex.hpp"

namespace oos::util {
namespace {

void fill_random(void* buffer, std::size_t size) {
  auto* bytes = static_cast<unsigned char*>(buffer);
  while (size > 0) {
    ssize_t got = getrandom(bytes, size, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("getrandom failed: ") + std::strerror(errno));
    }
    bytes += got;
    size -= static_cast<std::size_t>(got);
  }
}

}  // namespace

std::string random_token(std::size_t count) {
  std::vector<unsigned char> bytes(count);
  fill_random(bytes.data(), bytes.size());
  return to_hex(bytes);
}

Rng::Rng() {
  std::uint64_t seed = 0;
  fill_random(&seed, sizeof seed);
  m_engine.seed(seed);
}

double Rng::fraction() {
  return std::uniform_real_distribution<double>(0.0, 1.0)(m_engine);
}

std::uint32_t Rng::between(std::uint32_t low, std::uint32_t high) {
  return std::uniform_int_distribution<std::uint32_t>(low, high)(m_engine);
}

}  // namespace oos::util
