#include "queue/task.hpp"

#include <array>

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
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                   c == '.' || c == ':';
    ok = ok && allowed;
  }
  if (ok) return {};
  auto subject = what.empty() ? std::string("invalid name") : "invalid " + std::string(what) + " name";
  return std::unexpected(subject + " '" + std::string(name) + "': use 1-64 letters, digits, '_', '-', '.' or ':'");
}

}  // namespace oos::queue
