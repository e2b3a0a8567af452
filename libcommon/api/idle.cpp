#include "api/idle.hpp"

#include <algorithm>

namespace oos::api {

void IdleClock::opened() {
  ++m_open;
}

void IdleClock::closed(util::Millis now) {
  if (m_open > 0) --m_open;
  if (m_open == 0) m_idle_since = now;
}

bool IdleClock::expired(util::Millis now) const {
  return m_open == 0 && now - m_idle_since >= m_limit;
}

util::Millis IdleClock::next_check(util::Millis now) const {
  if (m_open > 0) return m_limit;
  return std::max(util::Millis{0}, m_idle_since + m_limit - now);
}

}  // namespace oos::api
