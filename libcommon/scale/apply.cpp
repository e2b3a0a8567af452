#include "scale/apply.hpp"

#include <algorithm>
#include <csignal>

namespace oos::scale {
namespace {

bool is_up(const std::string& active_state) {
  return active_state == "active" || active_state == "activating" || active_state == "reloading";
}

}  // namespace

std::vector<std::string> running_instances(sd::UnitManager& manager, const std::string& unit_template) {
  std::vector<std::string> running;
  for (const auto& unit : manager.list(instance_glob(unit_template)))
    if (is_up(unit.active_state)) running.push_back(unit.name);
  return running;
}

std::vector<std::string> apply(sd::UnitManager& manager, const InstancePlan& plan,
                               const std::vector<std::string>& running, bool memory_pressure, DryRun dry_run) {
  bool act = dry_run == DryRun::no;
  std::vector<std::string> actions;
  for (const auto& unit : plan.start) {
    if (act) manager.start(unit);
    actions.push_back("start " + unit);
  }
  for (const auto& unit : plan.stop) {
    if (act) manager.stop(unit);
    actions.push_back("stop " + unit);
  }
  if (memory_pressure)
    for (const auto& unit : running) {
      if (std::ranges::find(plan.stop, unit) != plan.stop.end()) continue;
      if (act) manager.signal_main(unit, SIGUSR1);
      actions.push_back("release memory " + unit);
    }
  return actions;
}

}  // namespace oos::scale
