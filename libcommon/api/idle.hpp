// When a socket-activated oos-api may exit: after api.idle_exit with no connection open (docs/reference.md,
// HTTP API). Pure: the server tells it when connections open and close, on a monotonic clock it passes in.
#pragma once

#include "util/duration.hpp"

namespace oos::api {

// Counts open connections and the time since the last one closed. Starts idle at `now`: a server that
// no connection ever reaches exits too.
class IdleClock {
 public:
  IdleClock(util::Millis limit, util::Millis now) : m_limit(limit), m_idle_since(now) {}

  // A connection was accepted.
  void opened();
  // A connection was closed at `now`; the last one to close starts the idle time.
  void closed(util::Millis now);
  // How many connections are open.
  int open() const { return m_open; }
  // Whether the limit has passed at `now` with no connection open.
  bool expired(util::Millis now) const;
  // How long to wait before expired() can first hold: the rest of the idle time, or the whole limit while a
  // connection is open (it cannot expire sooner than that after the close); 0 once expired.
  util::Millis next_check(util::Millis now) const;

 private:
  util::Millis m_limit;
  util::Millis m_idle_since;
  int m_open = 0;
};

}  // namespace oos::api
