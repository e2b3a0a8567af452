#include "queue/task.hpp"

#include <array>

#include "util/name.hpp"

namespace oos::queue {
namespace {

constexpr std::array<std::pair<std::string_view, TaskStatus>, 5> k_statuses{{{"pending", TaskStatus::pending},
                                                                             {"running", TaskStatus::running},
                                                                             {"succeeded", TaskStatus::succeeded},
                                                                             {"dead", TaskStatus::dead},
                                                                             {"cancelled", TaskStatus::cancelled}}};

}  // namespace

std::string_view to_string(TaskStatus status) {
  for (const auto& [name, value] : k_statuses)
    if (value == status) return name;
  return "pending";
}

std::optional<TaskStatus> parse_task_status(std::string_view text) {
  for (const auto& [name, value] : k_statuses)
    if (text == name) return value;
  return std::nullopt;
}

std::expected<void, std::string> check_name(std::string_view what, std::string_view name) {
  if (util::is_plain_name(name)) return {};
  auto subject = what.empty() ? std::string("invalid name") : "invalid " + std::string(what) + " name";
  return std::unexpected(subject + " '" + cut_for_message(name) + "': " + std::string(util::k_plain_name_rule));
}

}  // namespace oos::queue
