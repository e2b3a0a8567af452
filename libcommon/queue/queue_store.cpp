// What both queue stores share: the unknown-queue error and the alerts of a queue's state.
#include "queue/queue_store.hpp"

#include <fmt/format.h>

namespace oos::queue {

std::vector<std::string> queue_alerts(const QueueCounts& counts, const policy::BreakerRecord& breaker,
                                      const config::QueueSettings& settings) {
  std::vector<std::string> alerts;
  if (counts.runnable > settings.depth_alert)
    alerts.push_back(
        fmt::format("depth {} runnable tasks exceeds queue.depth_alert {}", counts.runnable, settings.depth_alert));
  if (breaker.state != policy::BreakerState::closed)
    alerts.push_back(fmt::format("breaker {} after {} consecutive failures", policy::to_string(breaker.state),
                                 breaker.consecutive_failures));
  return alerts;
}

Error unknown_queue(const std::string& name) {
  return Error(ExitCode::no_input,
               fmt::format("queue '{}' not found: it has no tasks and no [queues.{}] settings", name, name));
}

void QueueStore::require_known(const std::string& queue) {
  if (!exists(queue)) throw unknown_queue(queue);
}

}  // namespace oos::queue
