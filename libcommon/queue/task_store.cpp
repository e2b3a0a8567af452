// What both task stores share: the checks of a new task and the names of outcomes.
#include "queue/task_store.hpp"

#include <utility>

#include "config.hpp"
#include "error.hpp"
#include "util/duration.hpp"
#include "util/files.hpp"
#include "util/json.hpp"

namespace oos::queue {

std::string_view outcome_name(policy::FailureKind kind) {
  switch (kind) {
    case policy::FailureKind::retryable: return "failed";
    case policy::FailureKind::temporary: return "temporary";
    case policy::FailureKind::permanent: return "permanent";
  }
  return "failed";
}

void validate(const NewTask& task, const config::Config& config) {
  for (auto [what, name] : {std::pair{"queue", &task.queue}, std::pair{"type", &task.type}})
    if (auto ok = check_name(what, *name); !ok) throw Error(ExitCode::data_error, ok.error());
  if (auto max = config.queue_settings(task.queue).max_payload; task.payload.size() > max)
    throw Error(ExitCode::data_error, payload_too_large(max));
  if (auto ok = util::check_json(task.payload); !ok) throw Error(ExitCode::data_error, "payload is " + ok.error());
  if (task.max_attempts && *task.max_attempts < 1)
    throw Error(ExitCode::data_error, "max attempts must be at least 1, got " + std::to_string(*task.max_attempts));
  if (task.delay.count() < 0 || task.delay > k_max_delay)
    throw Error(ExitCode::data_error, "delay must be between 0s and " + util::format_duration(k_max_delay));
}

std::string payload_too_large(std::uint64_t max_payload) {
  return "payload is larger than " + util::size_words(max_payload) + " (queue.max_payload)";
}

}  // namespace oos::queue
