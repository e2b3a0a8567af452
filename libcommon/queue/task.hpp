// The task model of docs/reference.md section 5: states, what a producer submits, and what the store returns.
#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "policy/backoff.hpp"
#include "util/duration.hpp"
#include "util/name.hpp"
#include "util/time.hpp"

namespace oos::queue {

using TaskId = std::int64_t;

enum class TaskStatus { pending, running, succeeded, dead, cancelled };

std::string_view to_string(TaskStatus status);
std::optional<TaskStatus> parse_task_status(std::string_view text);

// `text` for an error message (util::cut_for_message: control characters escaped, cut at 64 bytes).
using util::cut_for_message;

// Queue and type names: 1-64 characters of letters, digits, '_', '-', '.', ':' (util::is_plain_name).
// Error: "invalid queue name 'a b': use 1-64 letters, digits, '_', '-', '.' or ':'" ("invalid name ..."
// when `what` is empty).
[[nodiscard]] std::expected<void, std::string> check_name(std::string_view what, std::string_view name);

// The longest delay a task may be given (about ten years): beyond it, a typo rather than a plan.
inline constexpr util::Millis k_max_delay{3650LL * 86'400'000};

// A task as a producer submits it.
struct NewTask {
  std::string queue = "default";
  std::string type;
  std::string payload = "{}";             // one JSON document
  int priority = 0;                       // higher runs first
  util::Millis delay{0};                  // not runnable before now + delay
  std::optional<int> max_attempts;        // default: the queue's max_attempts
  std::optional<std::string> unique_key;  // dedupe against pending/running tasks of the queue
};

struct EnqueueResult {
  TaskId id = 0;
  bool created = false;  // false: an active task with the unique key existed
};

// A task as stored.
struct Task {
  TaskId id = 0;
  std::string queue;
  std::string type;
  std::string payload;
  TaskStatus status = TaskStatus::pending;
  int priority = 0;
  util::UnixMillis run_at = 0;
  int attempts = 0;  // runs started so far
  int max_attempts = 0;
  std::optional<std::string> unique_key;
  std::optional<std::string> lease_owner;  // the worker that ran it last
  std::optional<util::UnixMillis> lease_expires_at;
  std::optional<std::string> last_error;
  std::optional<std::string> result;
  int replays = 0;  // times requeued from the dead letter queue
  util::UnixMillis created_at = 0;
  util::UnixMillis updated_at = 0;
  std::optional<util::UnixMillis> finished_at;
};

// One run of a task, as kept in its history (every run, in order, across replays).
struct Attempt {
  int attempt = 0;  // 1, 2, ... within its replay
  int replay = 0;   // 0 for the task's first life, n after the n-th `oos-retry`
  std::optional<std::string> worker;
  std::optional<util::UnixMillis> started_at;
  util::UnixMillis ended_at = 0;
  std::string outcome;  // succeeded, failed, temporary, permanent, lost
  std::optional<int> exit_code;
  std::optional<std::string> error;
};

// Proof of ownership of a running task. Completion and failure apply only with the current token.
struct Lease {
  TaskId task_id = 0;
  std::string token;
  util::UnixMillis expires_at = 0;
};

struct ClaimedTask {
  Task task;
  Lease lease;
  bool probe = false;  // the half-open breaker's probe run
};

// Why a run failed, as the worker saw it.
struct Failure {
  policy::FailureKind kind = policy::FailureKind::retryable;
  std::string error;  // kept as last_error (the caller trims it)
  std::optional<int> exit_code;
};

enum class Fence { applied, stale };

struct FailOutcome {
  Fence fence = Fence::stale;
  TaskStatus status = TaskStatus::running;  // pending (retry) or dead, when applied
  util::UnixMillis retry_at = 0;            // when pending
};

}  // namespace oos::queue
