// Acting on a scaling decision through systemd's manager (sd::UnitManager: sd-bus in oos-scale, a fake in the
// tests): which worker instances are up, and starting, stopping and signalling them.
#pragma once

#include <string>
#include <vector>

#include "dry_run.hpp"
#include "scale/instances.hpp"
#include "sd/unit_manager.hpp"

namespace oos::scale {

// The names of the template's instances (`unit_template`, "oos-worker@.service") that `manager` lists as up:
// active, activating or reloading.
std::vector<std::string> running_instances(sd::UnitManager& manager, const std::string& unit_template);

// Starts plan.start, stops plan.stop and, when `memory_pressure`, asks every unit of `running` that is not
// being stopped to release memory (SIGUSR1 to its main process). Returns the actions in that order, as
// "start oos-worker@3.service", "stop ...", "release memory ..."; DryRun::yes returns the same and calls
// nothing. A call that fails throws oos::Error (69), the calls before it made.
std::vector<std::string> apply(sd::UnitManager& manager, const InstancePlan& plan,
                               const std::vector<std::string>& running, bool memory_pressure, DryRun dry_run);

}  // namespace oos::scale
