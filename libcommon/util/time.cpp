#include "util/time.hpp"

#include <fmt/format.h>
#include <chrono>
#include <ctime>
#include <thread>

namespace oos::util {

UnixMillis SystemClock::now() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

double SystemClock::monotonic() const {
  return monotonic_seconds();
}

void SystemClock::sleep_for(std::int64_t ms) const {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

std::string format_iso8601(UnixMillis time) {
  auto seconds = static_cast<std::time_t>(time / 1000);
  auto millis = time % 1000;
  if (millis < 0) {
    millis += 1000;
    seconds -= 1;
  }
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  auto base = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                          tm.tm_hour, tm.tm_min, tm.tm_sec);
  return millis == 0 ? base + "Z" : fmt::format("{}.{:03}Z", base, millis);
}

double monotonic_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace oos::util
