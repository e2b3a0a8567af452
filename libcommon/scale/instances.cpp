#include "scale/instances.hpp"

#include <algorithm>
#include <charconv>
#include <set>

namespace oos::scale {
namespace {

// "oos-worker@.service" -> {"oos-worker@", ".service"}.
std::pair<std::string, std::string> template_parts(const std::string& unit_template) {
  auto at = unit_template.find('@');
  if (at == std::string::npos) return {unit_template, ""};
  return {unit_template.substr(0, at + 1), unit_template.substr(at + 1)};
}

}  // namespace

std::string instance_glob(const std::string& unit_template) {
  auto [prefix, suffix] = template_parts(unit_template);
  return prefix + "*" + suffix;
}

std::optional<int> instance_number(const std::string& unit_template, const std::string& unit) {
  auto [prefix, suffix] = template_parts(unit_template);
  if (unit.size() <= prefix.size() + suffix.size() || unit.rfind(prefix, 0) != 0 ||
      unit.compare(unit.size() - suffix.size(), suffix.size(), suffix) != 0)
    return std::nullopt;
  auto instance = unit.substr(prefix.size(), unit.size() - prefix.size() - suffix.size());
  int number = 0;
  auto [end, ec] = std::from_chars(instance.data(), instance.data() + instance.size(), number);
  if (ec != std::errc() || end != instance.data() + instance.size() || number < 1) return std::nullopt;
  return number;
}

InstancePlan plan_instances(const std::string& unit_template, const std::vector<std::string>& running, int desired) {
  auto [prefix, suffix] = template_parts(unit_template);
  std::set<int> numbers;
  int others = 0;
  for (const auto& unit : running) {
    if (auto n = instance_number(unit_template, unit))
      numbers.insert(*n);
    else
      ++others;
  }
  InstancePlan plan;
  int current = static_cast<int>(numbers.size()) + others;
  for (int n = 1; current < desired; ++n) {
    if (numbers.count(n)) continue;
    plan.start.push_back(prefix + std::to_string(n) + suffix);
    ++current;
  }
  for (auto it = numbers.rbegin(); it != numbers.rend() && current > desired; ++it, --current)
    plan.stop.push_back(prefix + std::to_string(*it) + suffix);
  return plan;
}

}  // namespace oos::scale
