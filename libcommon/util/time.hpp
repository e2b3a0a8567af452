// Wall-clock time as Unix milliseconds, the Clock seam, and ISO 8601 printing.
#pragma once

#include <cstdint>
#include <string>

namespace oos::util {

// Milliseconds since the Unix epoch, UTC: the unit of every time stored in the database.
using UnixMillis = std::int64_t;

// Source of the current time. Production uses SystemClock; tests pass a ManualClock.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixMillis now() const = 0;
};

class SystemClock final : public Clock {
 public:
  UnixMillis now() const override;
};

// A clock that only moves when told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(UnixMillis start) : m_now(start) {}
  UnixMillis now() const override { return m_now; }
  void advance(std::int64_t ms) { m_now += ms; }
  void set(UnixMillis now) { m_now = now; }

 private:
  UnixMillis m_now;
};

// "2026-11-28T12:38:15.123Z"; milliseconds are omitted when zero.
std::string format_iso8601(UnixMillis time);

// Seconds on a monotonic clock, for deadlines and measurements.
double monotonic_seconds();

}  // namespace oos::util
