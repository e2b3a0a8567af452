// Wall-clock time as Unix milliseconds, the Clock seam, and ISO 8601 printing.
#pragma once

#include <cstdint>
#include <string>

namespace oos::util {

// Milliseconds since the Unix epoch, UTC: the unit of every time stored in the database.
using UnixMillis = std::int64_t;

// Source of time: the wall clock for what is stored, a monotonic clock for deadlines and measurements, and
// waiting. Production uses SystemClock; tests pass a ManualClock, so that code which waits or measures runs
// without sleeping.
class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, for what is stored and shown.
  virtual UnixMillis now() const = 0;
  // Seconds on a monotonic clock (any origin), for deadlines and measurements.
  virtual double monotonic() const = 0;
  // Waits `ms` milliseconds (ManualClock: advances both clocks instead). Negative waits return at once.
  virtual void sleep_for(std::int64_t ms) const = 0;
};

class SystemClock final : public Clock {
 public:
  UnixMillis now() const override;
  double monotonic() const override;
  void sleep_for(std::int64_t ms) const override;
};

// A clock that only moves when told to, or when code sleeps on it. Its monotonic time starts at 1000 s and
// moves with the wall time.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(UnixMillis start) : m_now(start) {}
  UnixMillis now() const override { return m_now; }
  double monotonic() const override { return 1000.0 + static_cast<double>(m_moved) / 1000.0; }
  void sleep_for(std::int64_t ms) const override {
    if (ms > 0) advance_by(ms);
  }
  void advance(std::int64_t ms) { advance_by(ms); }
  // Sets the wall time; the monotonic time does not move (as when the system clock is set).
  void set(UnixMillis now) { m_now = now; }

 private:
  void advance_by(std::int64_t ms) const {
    m_now += ms;
    m_moved += ms;
  }
  // Mutable: code that sleeps holds the clock as `const Clock&`.
  mutable UnixMillis m_now;
  mutable std::int64_t m_moved = 0;
};

// "2026-11-28T12:38:15.123Z"; milliseconds are omitted when zero.
std::string format_iso8601(UnixMillis time);

// Seconds on a monotonic clock, for deadlines and measurements.
double monotonic_seconds();

}  // namespace oos::util
