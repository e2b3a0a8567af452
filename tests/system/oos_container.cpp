#include "system/oos_container.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace oos::test {

std::string system_test_config() {
  return R"toml([log]
level = "debug"

[queue]
lease = "2s"
backoff = [1]

[worker]
poll_interval = "200ms"
shutdown_grace = "2s"

[handlers.sleep]
command = ["/bin/sh", "-c", "exec sleep $(sed 's/[^0-9]//g')"]

[handlers.ok]
command = ["/bin/true"]
)toml";
}

OosContainer::OosContainer(const std::string& name, const std::string& config) : Container(name) {
  install_oos(config);
}

util::RunResult OosContainer::queue(const std::string& args) {
  return sh(k_as_oos + "/opt/oos/bin/oos-queue " + args);
}

long long OosContainer::enqueue(const std::string& type, const std::string& data_json) {
  auto r = sh(k_as_oos + "/opt/oos/bin/oos-queue enqueue default " + type + " --data -", data_json);
  if (r.exit_code != 0) throw std::runtime_error("enqueue " + type + " failed: " + r.err);
  return std::stoll(r.out);
}

std::string OosContainer::task_state(long long id) {
  auto r = queue("show " + std::to_string(id) + " --json");
  if (r.exit_code != 0) return "unknown (" + r.err + ")";
  return nlohmann::json::parse(r.out).at("status").get<std::string>();
}

long long OosContainer::task_attempts(long long id) {
  auto r = queue("show " + std::to_string(id) + " --json");
  if (r.exit_code != 0) return -1;
  return nlohmann::json::parse(r.out).at("attempts").get<long long>();
}

void OosContainer::drop_in(const std::string& unit, const std::string& name, const std::string& text) {
  auto dir = "/etc/systemd/system/" + unit + ".d";
  auto result = sh("mkdir -p " + dir + " && cat > " + dir + "/" + name + ".conf && systemctl daemon-reload", text);
  if (result.exit_code != 0) throw std::runtime_error("drop-in for " + unit + ": " + result.err);
}

bool OosContainer::wait_for_property(const std::string& unit, const std::string& name, const std::string& value,
                                     std::chrono::milliseconds timeout) {
  return wait_until([&] { return property(unit, name) == value; }, timeout);
}

}  // namespace oos::test
