// `oos-health validate`: what can be checked before anything runs. The config (parsed by the caller), the
// secrets it names (present, suspiciously short or absent, never their values), the state and backup
// directories (writable),
// and the installed units (complete, and `systemd-analyze verify` silent), when any are installed.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config.hpp"
#include "policy/health.hpp"
#include "secrets.hpp"

namespace oos::health {

// The units `make install` puts in place; validate() expects all of them once any is installed.
extern const std::vector<std::string> k_installed_units;

struct ValidateSources {
  const config::Config& config;
  const secrets::SecretStore& secrets;
  std::filesystem::path state_dir;
  std::filesystem::path backup_dir;
  std::filesystem::path root = "/";  // where the unit directories are looked for (systemd's --root)
};

struct Validation {
  std::vector<policy::HealthCheck> checks;
  // 0 when nothing is CRITICAL; else 78 for the config or a required secret, 74 for a directory, 2 for
  // the units (in that order of precedence).
  int exit_code = 0;
};

Validation validate(const ValidateSources& sources);

}  // namespace oos::health
