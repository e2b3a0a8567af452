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

std::string cut_for_message(std::string_view text) {
  constexpr std::size_t k_max = 64;
  if (text.size() <= k_max) return std::string(text);
  auto end = k_max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) --end;  // a continuation byte
  return std::string(text.substr(0, end)) + "…";
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
  return std::unexpected(subject + " '" + cut_for_message(name) + "': use 1-64 letters, digits, '_', '-', '.' or ':'");
}

}  // namespace oos::queue
