// What the host has left (oos-scale and oos-health: docs/reference.md sections 16 and 18): load averages,
// memory and memory pressure (PSI), each read from its /proc file. The path is a parameter, so that tests feed their
// own files. Disk usage (statvfs) is cleanup::disk_usage; a process's RSS and CPU time are util/process_usage.
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <optional>
#include <string>

namespace oos::resources {

struct LoadAverage {
  double one = 0, five = 0, fifteen = 0;
};

// The 1, 5 and 15-minute load averages: the first three fields of /proc/loadavg ("3.25 3.14 2.97 7/120 5757").
// Errors name the file and the cause: "cannot read '/proc/loadavg': No such file or directory",
// "'/proc/loadavg': expected three load averages, got 'x'".
[[nodiscard]] std::expected<LoadAverage, std::string> read_loadavg(const std::filesystem::path& path = "/proc/loadavg");

struct MemoryInfo {
  std::uint64_t total_bytes = 0, available_bytes = 0;
  // available_bytes as a percentage of total_bytes, at most 100; 100 when total_bytes is 0 (nothing known,
  // as a default-constructed sample reads: no shortage).
  double available_percent() const;
};

// MemTotal and MemAvailable of /proc/meminfo ("MemAvailable:   23510596 kB"). An error when the file cannot
// be read, when either line is missing (MemAvailable needs Linux 3.14) or malformed, or when MemTotal is 0.
[[nodiscard]] std::expected<MemoryInfo, std::string> read_meminfo(const std::filesystem::path& path = "/proc/meminfo");

// Pressure stall information: the share of wall time (percent) in which some (all) non-idle tasks were
// stalled waiting for the resource, averaged over 10 and 60 seconds.
struct Pressure {
  double some_avg10 = 0, some_avg60 = 0, full_avg10 = 0, full_avg60 = 0;
};

// The "some" and "full" lines of a PSI file ("some avg10=0.00 avg60=0.00 avg300=0.00 total=0").
// nullopt when the kernel has no PSI: the file does not exist, or PSI is switched off (psi=0 on the kernel
// command line: reading fails with EOPNOTSUPP). A missing "full" line (the cpu file before Linux 5.13)
// leaves the full fields 0; a missing or malformed "some" line is an error.
[[nodiscard]] std::expected<std::optional<Pressure>, std::string> read_pressure(
    const std::filesystem::path& path = "/proc/pressure/memory");

}  // namespace oos::resources
