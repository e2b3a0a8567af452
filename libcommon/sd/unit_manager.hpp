// systemd's manager over D-Bus (sd-bus), for oos-scale: list the worker units, start and stop instances,
// signal them. Only the tools that scale link libsystemd for it (the others load it on demand).
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace oos::sd {

struct UnitState {
  std::string name;          // "oos-worker@3.service"
  std::string active_state;  // "active", "activating", "failed", ...
  std::string sub_state;     // "running", "dead", ...
};

class UnitManager {
 public:
  // Connects to the system bus ($DBUS_SYSTEM_BUS_ADDRESS, else the standard socket). Throws oos::Error
  // (69, unavailable) naming the cause when it cannot.
  static std::unique_ptr<UnitManager> connect_system_bus();

  virtual ~UnitManager() = default;
  // Loaded units whose names match the glob `pattern` (ListUnitsByPatterns).
  virtual std::vector<UnitState> list(const std::string& pattern) = 0;
  // StartUnit / StopUnit in "replace" mode: queues the job and returns without waiting for it.
  virtual void start(const std::string& unit) = 0;
  virtual void stop(const std::string& unit) = 0;
  // KillUnit: sends `signal` to the unit's main process only.
  virtual void signal_main(const std::string& unit, int signal) = 0;
};

}  // namespace oos::sd
