#include "util/process_usage.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

namespace oos::util {
namespace {

double seconds(const timeval& user, const timeval& system) {
  return static_cast<double>(user.tv_sec + system.tv_sec) + static_cast<double>(user.tv_usec + system.tv_usec) / 1e6;
}

}  // namespace

ProcessUsage process_usage() {
  ProcessUsage usage;
  if (std::FILE* statm = std::fopen("/proc/self/statm", "r")) {
    unsigned long long size = 0, resident = 0;
    if (std::fscanf(statm, "%llu %llu", &size, &resident) == 2)
      usage.rss_bytes = resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    std::fclose(statm);
  }
  rusage self{}, children{};
  if (::getrusage(RUSAGE_SELF, &self) == 0) usage.cpu_seconds = seconds(self.ru_utime, self.ru_stime);
  if (::getrusage(RUSAGE_CHILDREN, &children) == 0)
    usage.children_cpu_seconds = seconds(children.ru_utime, children.ru_stime);
  return usage;
}

}  // namespace oos::util
