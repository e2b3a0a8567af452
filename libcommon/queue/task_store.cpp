// What both task stores share: the checks of a new task, the names of outcomes and the words of their errors and
// warnings.
#include "queue/task_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <utility>

#include "config.hpp"
#include "error.hpp"
#include "log.hpp"
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

Error task_not_found(TaskId id) {
  return Error(ExitCode::no_input, fmt::format("task {} not found", id));
}

Error cannot_cancel(TaskId id, TaskStatus status) {
  return Error(ExitCode::problem_reported,
               fmt::format("task {} is {}; only pending tasks can be cancelled", id, to_string(status)));
}

Error cannot_requeue(TaskId id, TaskStatus status) {
  return Error(ExitCode::problem_reported,
               fmt::format("task {} is {}; only dead tasks can be requeued", id, to_string(status)));
}

Failure lost_lease() {
  return {policy::FailureKind::retryable, "lease expired (worker lost)", std::nullopt};
}

void warn_late(log::Logger& logger, TaskId id, std::string_view what) {
  logger.warn(fmt::format("task {}: late {} rejected, its lease is no longer current", id, what),
              {{"task_id", std::to_string(id)}});
}

std::vector<TaskId> ids_of(const std::vector<Task>& tasks) {
  std::vector<TaskId> ids;
  ids.reserve(tasks.size());
  for (const auto& task : tasks) ids.push_back(task.id);
  return ids;
}

void log_requeued(log::Logger& logger, std::span<const TaskId> ids) {
  for (auto id : ids) logger.info(fmt::format("task {} requeued", id), {{"task_id", std::to_string(id)}});
}

void warn_reclaimed(log::Logger& logger, TaskId id, const std::optional<std::string>& worker, const std::string& queue,
                    TaskStatus after) {
  logger.warn(fmt::format("task {}: lease of worker '{}' expired, reclaimed as a failed attempt ({})", id,
                          worker.value_or("?"), to_string(after)),
              {{"task_id", std::to_string(id)}, {"queue", queue}});
}

void refuse_unique_key_conflicts(const std::vector<Task>& dead,
                                 const std::function<std::optional<std::string>(const Task&)>& active_holder,
                                 std::size_t requeued_before) {
  std::map<std::pair<std::string, std::string>, TaskId> claimed;  // (queue, key) -> the requeued task holding it
  for (const auto& task : dead) {
    if (!task.unique_key) continue;
    std::optional<std::string> by = active_holder(task);
    if (!by)
      if (auto [it, fresh] = claimed.try_emplace({task.queue, *task.unique_key}, task.id); !fresh)
        by = fmt::format("task {} (dead, requeued by the same command)", it->second);
    if (by)
      throw Error(ExitCode::problem_reported,
                  fmt::format("task {} cannot be requeued: {} holds its unique key '{}' in queue '{}' (only one "
                              "pending or running task per key); {}, leave it dead or purge it",
                              task.id, *by, util::cut_for_message(*task.unique_key), task.queue,
                              requeued_before == 0
                                  ? std::string("nothing is requeued")
                                  : fmt::format("{} task{} of its earlier batches stay{} requeued, no other is",
                                                requeued_before, requeued_before == 1 ? "" : "s",
                                                requeued_before == 1 ? "s" : "")));
  }
}

std::vector<TaskId> requeue_in_batches(std::int64_t total, const RequeueBatch& batch,
                                       const util::ProgressCallback& progress) {
  std::vector<TaskId> requeued;
  auto report = [&] {
    if (!progress) return;
    auto done = static_cast<std::uint64_t>(requeued.size());
    progress({.stage = "",
              .done = done,
              .total = std::max(static_cast<std::uint64_t>(std::max<std::int64_t>(total, 0)), done),
              .unit = util::ProgressUnit::tasks});
  };
  report();
  std::optional<TaskId> before;
  for (;;) {
    auto ids = batch(before, requeued.size());
    if (ids.empty()) return requeued;
    before = ids.back();
    requeued.insert(requeued.end(), ids.begin(), ids.end());
    report();
  }
}

}  // namespace oos::queue
