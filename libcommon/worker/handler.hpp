// What docs/reference.md section 6 says about running a handler, as pure functions: the environment it gets and
// what its exit means for the task.
#pragma once

#include <cstddef>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "policy/backoff.hpp"
#include "queue/task.hpp"
#include "util/child_process.hpp"
#include "util/time.hpp"
#include "worker/key_feedback.hpp"

namespace oos::worker {

// Reads a variable of the worker's own environment (std::getenv in production).
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
// Reads a secret by name (secrets::SecretStore::get in production).
using SecretLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The handler's whole environment, built rather than inherited: PATH, HOME, LANG, LC_*, TZ from the worker,
// the task variables (OOS_TASK_ID, OOS_TASK_TYPE, OOS_QUEUE, OOS_ATTEMPT, OOS_MAX_ATTEMPTS), the handler's
// pass_env and env, and the secrets its env_keys name. Error (a configuration problem): "handler 'T':
// secret 'NAME' named in env_keys is not set".
[[nodiscard]] std::expected<std::vector<std::string>, std::string> handler_environment(
    const std::string& type, const config::HandlerConfig& handler, const queue::Task& task,
    const std::vector<std::string>& worker_env_names, const EnvLookup& worker_env, const SecretLookup& secrets);

// What the worker knows when a handler's process has ended.
struct RunEnd {
  util::ChildExit exit;
  bool timed_out = false;         // our timeout signalled its process group
  bool grace_expired = false;     // the shutdown grace ran out and we signalled its process group
  bool stop_requested = false;    // the worker is stopping (the service manager may have signalled the group)
  bool lease_lost = false;        // another worker reclaimed the task meanwhile
  util::UnixMillis ended_at = 0;  // wall time, for a retry-after date the handler printed
};

// What the end of a run means for its task.
enum class Verdict {
  complete,  // succeeded: store the result
  fail,      // a failed attempt of `failure.kind`
  release,   // not the task's failure: pending again, the attempt not counted
  abandon,   // the lease is gone: record nothing
};

struct RunOutcome {
  Verdict verdict = Verdict::fail;
  std::string result;      // complete: what the handler printed
  queue::Failure failure;  // fail
  // release: the handler reported the key(s) of its key rings exhausted; they cool down (key_cooldown or this).
  std::optional<KeyExhausted> key_exhausted;
  // release: pending again at this wall time instead of at once (every key of a ring cools down until then).
  std::optional<util::UnixMillis> release_until;
};

// The one place that decides what a run's end means, in this order: a lost lease is abandoned; a timeout is
// a retryable failure whatever the exit code after our signal (a handler may trap SIGTERM and exit 0); the
// end of the shutdown grace releases the task; exit 0 succeeds (also during shutdown); SIGTERM while the
// worker stops releases it; for a handler with key_rings, EX_TEMPFAIL with the oos:key-exhausted line last on
// stderr (parse_key_exhausted) or its key_exhausted_exit_code releases the task with `key_exhausted` set (the
// attempt is not counted: the key failed, not the task); EX_TEMPFAIL (75) is otherwise temporary, a permanent exit code
// permanent, any other code or signal retryable. The error text names the cause and ends with the stderr tail.
RunOutcome classify_run(const RunEnd& end, const config::HandlerConfig& handler);

// The line appended to a result cut at `kept` of the `written` bytes of stdout:
// "\n[oos: output cut at 65536 of 100000 bytes]".
std::string truncation_marker(std::size_t kept, std::size_t written);

}  // namespace oos::worker
