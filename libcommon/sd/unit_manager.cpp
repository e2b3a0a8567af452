#include "sd/unit_manager.hpp"

#include <systemd/sd-bus.h>

#include <fmt/format.h>

#include <cstdlib>
#include <cstring>

#include "error.hpp"

namespace oos::sd {
namespace {

constexpr const char* k_destination = "org.freedesktop.systemd1";
constexpr const char* k_path = "/org/freedesktop/systemd1";
constexpr const char* k_interface = "org.freedesktop.systemd1.Manager";

// sd_bus_error that is freed on every path.
struct BusError {
  sd_bus_error error = SD_BUS_ERROR_NULL;
  ~BusError() { sd_bus_error_free(&error); }
  std::string describe(int r) const { return error.message ? error.message : std::strerror(-r); }
};

struct MessageRef {
  sd_bus_message* message = nullptr;
  ~MessageRef() { sd_bus_message_unref(message); }
};

class BusUnitManager : public UnitManager {
 public:
  explicit BusUnitManager(sd_bus* bus) : m_bus(bus) {}
  ~BusUnitManager() override { sd_bus_flush_close_unref(m_bus); }

  std::vector<UnitState> list(const std::string& pattern) override {
    BusError error;
    MessageRef request, reply;
    check(sd_bus_message_new_method_call(m_bus, &request.message, k_destination, k_path, k_interface,
                                         "ListUnitsByPatterns"),
          "ListUnitsByPatterns", error);
    check(sd_bus_message_append_strv(request.message, nullptr), "ListUnitsByPatterns", error);  // any state
    const char* patterns[] = {pattern.c_str(), nullptr};
    check(sd_bus_message_append_strv(request.message, const_cast<char**>(patterns)), "ListUnitsByPatterns", error);
    check(sd_bus_call(m_bus, request.message, 0, &error.error, &reply.message), "ListUnitsByPatterns", error);
    std::vector<UnitState> units;
    check(sd_bus_message_enter_container(reply.message, SD_BUS_TYPE_ARRAY, "(ssssssouso)"), "ListUnitsByPatterns",
          error);
    const char *name = nullptr, *description = nullptr, *load = nullptr, *active = nullptr, *sub = nullptr,
               *following = nullptr, *path = nullptr, *job_type = nullptr, *job_path = nullptr;
    std::uint32_t job_id = 0;
    while (true) {
      int r = sd_bus_message_read(reply.message, "(ssssssouso)", &name, &description, &load, &active, &sub, &following,
                                  &path, &job_id, &job_type, &job_path);
      check(r, "ListUnitsByPatterns", error);
      if (r == 0) break;
      units.push_back({name, active, sub});
    }
    return units;
  }

  void start(const std::string& unit) override { job("StartUnit", unit); }
  void stop(const std::string& unit) override { job("StopUnit", unit); }

  void signal_main(const std::string& unit, int signal) override {
    BusError error;
    MessageRef reply;
    check(sd_bus_call_method(m_bus, k_destination, k_path, k_interface, "KillUnit", &error.error, &reply.message, "ssi",
                             unit.c_str(), "main", signal),
          "KillUnit " + unit, error);
  }

 private:
  void job(const char* method, const std::string& unit) {
    BusError error;
    MessageRef reply;
    check(sd_bus_call_method(m_bus, k_destination, k_path, k_interface, method, &error.error, &reply.message, "ss",
                             unit.c_str(), "replace"),
          std::string(method) + " " + unit, error);
  }

  void check(int r, const std::string& what, const BusError& error) const {
    if (r >= 0) return;
    bool denied = r == -EACCES || (error.error.name && std::strstr(error.error.name, "AccessDenied"));
    throw Error(ExitCode::unavailable, fmt::format("systemd over D-Bus: {} failed: {}{}", what, error.describe(r),
                                                   denied ? access_denied_hint() : ""));
  }

  // systemd lets user oos manage units only through polkit: say which part is missing, polkitd or our rule
  // (when the bus cannot say whether polkit is there, both).
  std::string access_denied_hint() const {
    char** activatable = nullptr;
    if (sd_bus_list_names(m_bus, nullptr, &activatable) < 0 || !activatable)
      return " (oos-scale needs polkitd and its polkit rule installed; see units/README.md)";
    bool polkit = false;
    for (char** name = activatable; *name; ++name) {
      polkit = polkit || std::strcmp(*name, "org.freedesktop.PolicyKit1") == 0;
      std::free(*name);
    }
    std::free(activatable);
    return polkit ? " (is the polkit rule for oos-scale installed? see units/README.md)"
                  : " (polkitd is not installed: oos-scale manages the workers as user oos through polkit; install "
                    "the Debian package polkitd)";
  }

  sd_bus* m_bus;
};

}  // namespace

std::unique_ptr<UnitManager> UnitManager::connect_system_bus() {
  sd_bus* bus = nullptr;
  int r = sd_bus_open_system(&bus);
  if (r < 0)
    throw Error(ExitCode::unavailable,
                fmt::format("cannot connect to the system bus: {}; is systemd running? (with scale.manager = \"none\", "
                            "oos-scale decides without it, from the workers' heartbeats)",
                            std::strerror(-r)));
  return std::make_unique<BusUnitManager>(bus);
}

}  // namespace oos::sd
