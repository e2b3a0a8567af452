#include "worker/handler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <cstring>

namespace oos::worker {
namespace {

constexpr int k_ex_tempfail = 75;

bool is_locale_name(const std::string& name) {
  return name == "LANG" || name.starts_with("LC_");
}

}  // namespace

std::expected<std::vector<std::string>, std::string> handler_environment(
    const std::string& type, const config::HandlerConfig& handler, const queue::Task& task,
    const std::vector<std::string>& worker_env_names, const EnvLookup& worker_env, const SecretLookup& secrets) {
  std::vector<std::string> env;
  auto pass = [&](const std::string& name) {
    if (auto value = worker_env(name)) env.push_back(name + "=" + *value);
  };
  for (const char* name : {"PATH", "HOME", "TZ"}) pass(name);
  for (const auto& name : worker_env_names)
    if (is_locale_name(name)) pass(name);
  env.push_back("OOS_TASK_ID=" + std::to_string(task.id));
  env.push_back("OOS_TASK_TYPE=" + task.type);
  env.push_back("OOS_QUEUE=" + task.queue);
  env.push_back("OOS_ATTEMPT=" + std::to_string(task.attempts));
  env.push_back("OOS_MAX_ATTEMPTS=" + std::to_string(task.max_attempts));
  for (const auto& name : handler.pass_env) pass(name);
  for (const auto& [name, value] : handler.env) env.push_back(name + "=" + value);
  for (const auto& name : handler.env_keys) {
    auto secret = secrets(name);
    if (!secret)
      return std::unexpected(fmt::format("handler '{}': secret '{}' named in env_keys is not set", type, name));
    env.push_back(name + "=" + *secret);
  }
  return env;
}

RunOutcome classify_run(const RunEnd& end, const config::HandlerConfig& handler) {
  const auto& exit = end.exit;
  auto with_stderr = [&](std::string cause) {
    if (!exit.err_tail.empty()) cause += ": " + exit.err_tail;
    while (!cause.empty() && (cause.back() == '\n' || cause.back() == ' ')) cause.pop_back();
    return cause;
  };
  auto failed = [](policy::FailureKind kind, std::string error, std::optional<int> code = std::nullopt) {
    return RunOutcome{Verdict::fail, {}, {kind, std::move(error), code}, {}, {}};
  };
  if (end.lease_lost) return {Verdict::abandon, {}, {}, {}, {}};
  if (end.timed_out)
    return failed(policy::FailureKind::retryable,
                  with_stderr(fmt::format("timed out after {}", util::format_duration(handler.timeout))));
  if (end.grace_expired) return {Verdict::release, {}, {}, {}, {}};
  if (exit.exit_code == 0) return {Verdict::complete, exit.out, {}, {}, {}};
  if (exit.signal) {
    if (end.stop_requested && *exit.signal == SIGTERM) return {Verdict::release, {}, {}, {}, {}};
    return failed(policy::FailureKind::retryable,
                  with_stderr(fmt::format("killed by signal {} ({})", *exit.signal, ::strsignal(*exit.signal))));
  }
  int code = exit.exit_code.value_or(-1);
  if (!handler.key_rings.empty()) {
    auto report = code == k_ex_tempfail ? parse_key_exhausted(exit.err_tail, end.ended_at) : std::nullopt;
    if (!report && code == handler.key_exhausted_exit_code)
      report = parse_key_exhausted(exit.err_tail, end.ended_at).value_or(KeyExhausted{});
    if (report) return {Verdict::release, {}, {}, report, {}};
  }
  auto kind = policy::FailureKind::retryable;
  if (code == k_ex_tempfail) kind = policy::FailureKind::temporary;
  const auto& permanent = handler.permanent_exit_codes;
  if (std::find(permanent.begin(), permanent.end(), code) != permanent.end()) kind = policy::FailureKind::permanent;
  return failed(kind, with_stderr(fmt::format("exit {}", code)), code);
}

std::string truncation_marker(std::size_t kept, std::size_t written) {
  return fmt::format("\n[oos: output cut at {} of {} bytes]", kept, written);
}

}  // namespace oos::worker
