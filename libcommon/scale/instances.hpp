// Which worker instances to start or stop to reach a number of workers: a pure function of the instances
// that run now (oos-worker@N.service) and the number wanted.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace oos::scale {

struct InstancePlan {
  std::vector<std::string> start;  // unit names, lowest free numbers first
  std::vector<std::string> stop;   // highest numbers first
};

// The instance number of `unit` for the template `unit_template` ("oos-worker@.service"): 3 for
// "oos-worker@3.service"; nullopt for another unit or a non-numeric instance.
std::optional<int> instance_number(const std::string& unit_template, const std::string& unit);

// The glob that matches the template's instances: "oos-worker@*.service" for "oos-worker@.service".
std::string instance_glob(const std::string& unit_template);

// `running` holds the names of the template's instances that are up (active or activating). Instances with
// a name that is not a number count as running but are never stopped: someone started them by hand.
InstancePlan plan_instances(const std::string& unit_template, const std::vector<std::string>& running, int desired);

}  // namespace oos::scale
