// Taking a sample of the host for oos-scale: the 1-minute load, the memory available and the memory pressure,
// read from /proc files whose paths tests replace.
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <string>

#include "policy/scaling.hpp"
#include "util/time.hpp"

namespace oos::scale {

using policy::Sample;

struct SampleSources {
  std::filesystem::path loadavg = "/proc/loadavg";
  std::filesystem::path meminfo = "/proc/meminfo";
  std::filesystem::path pressure = "/proc/pressure/memory";
};

// A sample taken at `now` with `runnable` runnable tasks. A missing pressure file (no PSI) leaves
// psi_some_avg10 empty; any other file that cannot be read or parsed is an error naming it and the cause.
[[nodiscard]] std::expected<Sample, std::string> take_sample(util::UnixMillis now, std::int64_t runnable,
                                                             const SampleSources& sources = {});

}  // namespace oos::scale
