// This process's resource use, for the worker's metrics line.
#pragma once

#include <cstdint>

namespace oos::util {

struct ProcessUsage {
  std::uint64_t rss_bytes = 0;      // resident set size (/proc/self/statm)
  double cpu_seconds = 0;           // user + system time of this process
  double children_cpu_seconds = 0;  // of its children that have been reaped (the handlers)
};

ProcessUsage process_usage();

}  // namespace oos::util
