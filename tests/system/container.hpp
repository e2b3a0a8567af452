// The system tests' harness: a real systemd booted with systemd-nspawn over the host's own root
// (`--volatile=yes`: /usr from the host, read-only; an empty /etc and /var in memory), with the source and
// build trees bound read-only, driven from the host through nsenter. How and why: tests/system/README.md.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "support/temp_dir.hpp"
#include "util/child_process.hpp"
#include "util/subprocess.hpp"

namespace oos::test {

// What a container boots from. By default the host's own root with an empty /etc and /var (`--volatile=yes`), the
// source and build trees bound read-only.
struct ContainerRoot {
  std::filesystem::path directory = "/";
  // systemd-nspawn's --volatile=: "yes" (only /usr from `directory`) or "overlay" (all of `directory`, read-only,
  // under a tmpfs overlay: what the container writes is gone at power-off).
  std::string volatile_mode = "yes";
  // More binds, "HOST:INSIDE", read-write.
  std::vector<std::string> binds;
};

class Container {
 public:
  // Boots a container named "oos-<name>-<our pid>" in cgroups of its own and waits until its systemd has
  // finished booting. Throws std::runtime_error (with the console's tail) when it does not boot.
  explicit Container(const std::string& name, ContainerRoot root = {});
  // Powers it off; kills what is left after a while, then removes its cgroups.
  ~Container();
  Container(const Container&) = delete;
  Container& operator=(const Container&) = delete;

  // Runs a /bin/sh script inside, as root, with a clean environment; exit code and output.
  util::RunResult sh(const std::string& script, const std::string& stdin_data = "");
  // sh() that must exit 0; returns its stdout, throws std::runtime_error naming the script otherwise.
  std::string must(const std::string& script, const std::string& stdin_data = "");
  // `systemctl show -P NAME UNIT`.
  std::string property(const std::string& unit, const std::string& name);
  // Installs OOS inside with scripts/install, as an operator would with `make install` (binaries in
  // /opt/oos/bin, units in /etc/systemd/system, the oos user, /var/lib/oos), then writes `config_toml` as
  // /etc/oos/oos.toml.
  void install_oos(const std::string& config_toml);

  // Where the test binaries can reach the container's files from the host.
  std::filesystem::path host_path(const std::filesystem::path& inside) const;
  // The last lines of the container's console, for failure messages.
  std::string console_tail() const;

 private:
  void boot();
  void find_leader();
  void power_off();

  std::string m_name;
  ContainerRoot m_root;
  TempDir m_dir;
  std::vector<std::filesystem::path> m_cgroups;
  std::unique_ptr<util::ChildProcess> m_nspawn;
  pid_t m_leader = -1;
};

// Polls `condition` every 100 ms until it holds or `timeout` has passed; whether it held.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

}  // namespace oos::test
