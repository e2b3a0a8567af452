// How Boost.Test prints OOS enums in failure messages.
#pragma once

#include <ostream>

#include "error.hpp"
#include "policy/breaker.hpp"
#include "policy/health.hpp"
#include "policy/quota.hpp"
#include "queue/task.hpp"

namespace oos {
inline std::ostream& operator<<(std::ostream& out, ExitCode code) {
  return out << static_cast<int>(code);
}
}  // namespace oos

namespace oos::queue {
inline std::ostream& operator<<(std::ostream& out, TaskStatus status) {
  return out << to_string(status);
}
inline std::ostream& operator<<(std::ostream& out, Fence fence) {
  return out << (fence == Fence::applied ? "applied" : "stale");
}
}  // namespace oos::queue

namespace oos::policy {
inline std::ostream& operator<<(std::ostream& out, BreakerState state) {
  return out << to_string(state);
}
inline std::ostream& operator<<(std::ostream& out, Health health) {
  return out << to_string(health);
}
inline std::ostream& operator<<(std::ostream& out, QuotaVerdict verdict) {
  return out << (verdict == QuotaVerdict::allowed ? "allowed" : verdict == QuotaVerdict::spent ? "spent" : "paced");
}
}  // namespace oos::policy
