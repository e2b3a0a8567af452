// What the worker tells systemd (sd_notify(3)): READY=1, STATUS=, WATCHDOG=1, STOPPING=1; and the rule for
// the watchdog: ping at half of $WATCHDOG_USEC, and only after the main loop has made progress.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "sd/libsystemd.hpp"
#include "util/duration.hpp"

namespace oos::worker {

// How often to ping: half of $WATCHDOG_USEC when the watchdog is meant for this process ($WATCHDOG_PID
// unset or equal to `self`); nullopt when there is no watchdog or the values are not numbers.
std::optional<util::Millis> watchdog_interval(const char* watchdog_usec, const char* watchdog_pid, pid_t self);

class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual void notify(const std::string& state) = 0;
};

// sd_notify through libsystemd when $NOTIFY_SOCKET is set; nothing otherwise.
class SystemdNotifier final : public Notifier {
 public:
  SystemdNotifier();
  void notify(const std::string& state) override;
  // Why notifications cannot be sent although $NOTIFY_SOCKET is set; empty when all is well.
  const std::string& problem() const { return m_problem; }

 private:
  std::optional<sd::Libsystemd> m_systemd;
  std::string m_problem;
};

// Sends WATCHDOG=1 at most once per interval, when told the loop progressed. A loop that is stuck (a
// wedged step, a database call that does not return) stops calling progressed() and systemd kills it.
class WatchdogPinger {
 public:
  WatchdogPinger(Notifier& notifier, std::optional<util::Millis> interval)
      : m_notifier(notifier), m_interval(interval) {}
  // The loop completed a step at monotonic time `now` (seconds).
  void progressed(double now);

 private:
  Notifier& m_notifier;
  std::optional<util::Millis> m_interval;
  double m_last = -1e300;
};

}  // namespace oos::worker
