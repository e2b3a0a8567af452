// What docs/reference.md section 6 says about running a handler, as pure functions: the environment it gets and
// what its exit means for the task.
#pragma once

#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "policy/backoff.hpp"
#include "queue/task.hpp"
#include "util/child_process.hpp"

namespace oos::worker {

// Reads a variable of the worker's own environment (std::getenv in production).
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
// Reads a secret by name (secrets::SecretStore::get in production).
using SecretLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The handler's whole environment, built rather than inherited: PATH, HOME, LANG, LC_*, TZ from the worker,
// the task variables (OOS_TASK_ID, OOS_TASK_TYPE, OOS_QUEUE, OOS_ATTEMPT, OOS_MAX_ATTEMPTS), the handler's
// pass_env and env, and the secrets its env_keys name. Error (a configuration problem): "handler 'T':
// secret 'NAME' named in env_keys is not set".
std::expected<std::vector<std::string>, std::string> handler_environment(
    const std::string& type, const config::HandlerConfig& handler, const queue::Task& task,
    const std::vector<std::string>& worker_env_names, const EnvLookup& worker_env, const SecretLookup& secrets);

// How a run ended, for the task store.
struct RunOutcome {
  bool succeeded = false;
  queue::Failure failure;  // when not succeeded
};

// Exit 0: succeeded. EX_TEMPFAIL (75): temporary. A permanent exit code: permanent. Any other code, a
// signal or the timeout: retryable. The error text names the cause and ends with the stderr tail.
RunOutcome classify_run(const util::ChildExit& exit, bool timed_out, const config::HandlerConfig& handler);

}  // namespace oos::worker
