#include "queue/external.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "error.hpp"
#include "util/json.hpp"
#include "util/name.hpp"

namespace oos::queue {
namespace {

// 69: `lease`'s token does not hold its task; the cause from the task as it is.
Error stale_token(const Task& task, const Lease& lease, util::UnixMillis now) {
  const auto id = lease.task_id;
  if (task.status != TaskStatus::running)
    return Error(ExitCode::unavailable,
                 fmt::format("task {} is {}, not running: the token holds no lease of it", id, to_string(task.status)));
  if (task.lease_expires_at && *task.lease_expires_at < now)
    return Error(ExitCode::unavailable,
                 fmt::format("task {}: its lease expired at {}; the token no longer holds it (the next claim takes "
                             "the task back as a lost run)",
                             id, util::format_iso8601(*task.lease_expires_at)));
  return Error(ExitCode::unavailable, fmt::format("task {}: the token is not its current lease token (held by '{}')",
                                                  id, cut_for_message(task.lease_owner.value_or("?"))));
}

struct Held {
  Lease lease;
  std::string queue;
};

// The lease of task `id` that `token` names, once the store says it holds; throws 66 for no such task, 69 (a
// stale_token) when it does not hold: checked first so that a refusal changes nothing and logs no warning.
Held held_lease(TaskStore& store, TaskId id, const std::string& token, const util::Clock& clock) {
  auto task = store.find(id);
  if (!task) throw task_not_found(id);
  Lease lease{id, token, task->lease_expires_at.value_or(0)};
  if (!store.holds(lease)) throw stale_token(*task, lease, clock.now());
  return {lease, task->queue};
}

// 69 after a fenced write refused `lease` (it changed hands since held_lease()).
Error refused(TaskStore& store, const Lease& lease, const util::Clock& clock) {
  auto task = store.find(lease.task_id);
  if (!task) return task_not_found(lease.task_id);
  return stale_token(*task, lease, clock.now());
}

}  // namespace

std::string default_external_worker(std::string_view host, long pid) {
  std::string name = "external:";
  for (char c : host) name += util::is_plain_name(std::string_view(&c, 1)) ? c : '_';
  auto suffix = fmt::format(":{}", pid);
  constexpr std::size_t k_max = 64;
  if (name.size() + suffix.size() > k_max) name.resize(k_max - std::min(k_max, suffix.size()));
  return name + suffix;
}

std::optional<ClaimedTask> claim_external(TaskStore& store, const std::string& queue, std::string_view worker,
                                          std::optional<util::Millis> lease_for) {
  store.reclaim_expired();
  const std::string queues[] = {queue};
  return store.claim(queues, worker, lease_for);
}

Error external_result_too_large() {
  return Error(ExitCode::data_error,
               fmt::format("--result is larger than {} bytes: keep the result small (a summary, or where the full "
                           "output was stored)",
                           k_max_external_result));
}

void check_external_result(std::string_view result) {
  if (result.size() > k_max_external_result) throw external_result_too_large();
  if (auto ok = util::check_json(result); !ok) throw Error(ExitCode::data_error, "--result is " + ok.error());
}

std::string cut_external_error(std::string_view error) {
  if (error.size() <= k_max_external_error) return std::string(error);
  auto end = k_max_external_error;
  // Back to the first byte of a UTF-8 character (continuation bytes are 10xxxxxx).
  while (end > 0 && (static_cast<unsigned char>(error[end]) & 0xC0) == 0x80) --end;
  return std::string(error.substr(0, end));
}

void complete_external(TaskStore& store, TaskId id, const std::string& token, std::string_view result,
                       const util::Clock& clock) {
  auto lease = held_lease(store, id, token, clock).lease;
  if (store.complete(lease, result, std::nullopt) == Fence::stale) throw refused(store, lease, clock);
}

FailOutcome fail_external(TaskStore& store, TaskId id, const std::string& token, const Failure& failure,
                          const util::Clock& clock) {
  auto lease = held_lease(store, id, token, clock).lease;
  auto outcome = store.fail(lease, failure);
  if (outcome.fence == Fence::stale) throw refused(store, lease, clock);
  return outcome;
}

Lease renew_external(TaskStore& store, TaskId id, const std::string& token, std::optional<util::Millis> lease_for,
                     const util::Clock& clock) {
  auto held = held_lease(store, id, token, clock);
  if (!store.renew(held.lease, held.queue, lease_for)) throw refused(store, held.lease, clock);
  return held.lease;
}

}  // namespace oos::queue
