// A container (container.hpp) with OOS installed by scripts/install and the shortcuts the system tests
// share: a test config with short intervals, oos-queue run as the oos user, task states, unit states.
#pragma once

#include <chrono>
#include <string>

#include "system/container.hpp"

namespace oos::test {

// Prefix of a command run as the oos user (setpriv: the container's empty /etc has no PAM for runuser).
inline const std::string k_as_oos = "setpriv --reuid=oos --regid=oos --clear-groups ";

// Short leases, retries and polls so a test sees in seconds what takes minutes in production; handler
// types: `sleep` (sleeps the number of seconds in its payload, e.g. {"seconds":2}) and `ok`.
std::string system_test_config();

class OosContainer : public Container {
 public:
  // Boots the container and installs OOS with `config` as /etc/oos/oos.toml.
  explicit OosContainer(const std::string& name, const std::string& config = system_test_config());

  // oos-queue ARGS as the oos user (as an operator would run it: `sudo -u oos oos-queue ...`).
  util::RunResult queue(const std::string& args);
  // Enqueues a task on queue default; its id.
  long long enqueue(const std::string& type, const std::string& data_json = "{}");
  // The task's status ("pending", "running", ...) from `oos-queue show --json`.
  std::string task_state(long long id);
  // How many attempts the task has had.
  long long task_attempts(long long id);
  // Adds a drop-in `name`.conf for `unit` with `text` and reloads systemd.
  void drop_in(const std::string& unit, const std::string& name, const std::string& text);
  // Waits up to `timeout` for the unit's property to read `value`.
  bool wait_for_property(const std::string& unit, const std::string& name, const std::string& value,
                         std::chrono::milliseconds timeout);
};

}  // namespace oos::test
