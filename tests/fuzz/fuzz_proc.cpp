// The /proc readers (loadavg, meminfo, PSI), each fed the input through a memory file.
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "fuzz/fuzz.hpp"
#include "resources/resources.hpp"
#include "util/fd.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  oos::util::Fd file(::memfd_create("fuzz-proc", MFD_CLOEXEC));
  if (!file) return 0;
  std::size_t written = 0;
  while (written < size) {
    auto n = ::write(file.get(), data + written, size - written);
    if (n <= 0) return 0;
    written += static_cast<std::size_t>(n);
  }
  auto path = "/proc/self/fd/" + std::to_string(file.get());
  (void)oos::resources::read_loadavg(path);
  (void)oos::resources::read_meminfo(path);
  (void)oos::resources::read_pressure(path);
  return 0;
}
