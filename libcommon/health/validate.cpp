#include "health/validate.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <map>
#include <set>
#include <sstream>
#include <system_error>

#include "keys/key_ring.hpp"
#include "search/provider.hpp"
#include "search/provider_keys.hpp"
#include "util/fd.hpp"
#include "util/subprocess.hpp"

namespace oos::health {

const std::vector<std::string> k_installed_units{
    "oos.target",          "oos-worker@.service", "oos-backup.service", "oos-backup.timer",  "oos-integrity.service",
    "oos-integrity.timer", "oos-cleanup.service", "oos-cleanup.timer",  "oos-scale.service", "oos-scale.timer",
    "oos-api.socket",      "oos-api.service",
};

namespace {

namespace fs = std::filesystem;
using policy::Health;
using policy::HealthCheck;

// The exit code a CRITICAL check of each kind gives; the highest precedence wins.
constexpr int k_config_code = 78;
constexpr int k_directory_code = 74;
constexpr int k_units_code = 2;

struct Report {
  Validation v;
  void add(HealthCheck check, int code_if_critical) {
    if (check.status == Health::critical) {
      auto precedence = [](int code) { return code == k_config_code ? 3 : code == k_directory_code ? 2 : 1; };
      if (v.exit_code == 0 || precedence(code_if_critical) > precedence(v.exit_code)) v.exit_code = code_if_critical;
    }
    v.checks.push_back(std::move(check));
  }
};

void check_secrets(const ValidateSources& s, Report& r) {
  // name -> who needs it; required secrets (a handler's env_keys) fail, a search provider's only warn: the
  // chain skips a provider without its key.
  std::map<std::string, std::vector<std::string>> required, optional;
  for (const auto& [type, handler] : s.config.handlers) {
    for (const auto& key : handler.env_keys) required[key].push_back("handler " + type);
    for (const auto& ring : handler.key_rings) required[ring].push_back("handler " + type);
  }
  // A provider whose key comes from its ring (search/provider_keys.hpp) needs the ring, not the one key.
  for (const auto& provider : s.config.search.providers) {
    auto p = search::make_provider(provider, s.config.search.provider.at(provider));
    auto ring = search::provider_secrets(*p, s.secrets).ring;
    for (auto key : p->secret_names()) {
      if (ring && key == p->key_secret()) key = *ring;
      if (!required.contains(key)) optional[key].push_back("search provider " + provider);
    }
  }
  auto check = [&](const std::string& name, const std::vector<std::string>& users, bool needed) {
    auto value = s.secrets.get(name);
    auto who = fmt::format("{}", fmt::join(users, ", "));
    // A value too short to be a credential is probably cut off, and scrub() leaves it in messages: say so,
    // without the value or its length.
    if (value && value->size() < secrets::k_min_secret_length)
      return HealthCheck{"secret " + name, Health::warning,
                         fmt::format("present but shorter than {} characters, for {}: check that it is the whole "
                                     "value; a value this short is not redacted from messages",
                                     secrets::k_min_secret_length, who)};
    if (value) return HealthCheck{"secret " + name, Health::ok, fmt::format("{}, for {}", secrets::redact(value), who)};
    return HealthCheck{"secret " + name, needed ? Health::critical : Health::warning,
                       fmt::format("absent, {} {}: give it with LoadCredential={}:<file> in a drop-in "
                                   "(README, Secrets) or in the environment",
                                   who, needed ? "cannot run without it" : "is skipped without it", name)};
  };
  for (const auto& [name, users] : required) r.add(check(name, users, true), k_config_code);
  for (const auto& [name, users] : optional) r.add(check(name, users, false), k_config_code);
}

// Each key ring a handler names or a search provider takes its key from: how many keys it holds (never the keys), a
// WARNING for a key given twice (the second copy is ignored) and for a ring of one key (nothing to move to when it
// is spent). A ring that is absent is the secret check's.
void check_key_rings(const ValidateSources& s, Report& r) {
  std::set<std::string> rings;
  for (const auto& [type, handler] : s.config.handlers)
    rings.insert(handler.key_rings.begin(), handler.key_rings.end());
  for (const auto& provider : s.config.search.providers)
    if (auto ring =
            search::provider_secrets(*search::make_provider(provider, s.config.search.provider.at(provider)), s.secrets)
                .ring)
      rings.insert(*ring);
  for (const auto& ring : rings) {
    auto value = s.secrets.get(ring);
    if (!value) continue;
    auto keys = keys::parse_ring(*value);
    auto name = "key ring " + ring;
    if (keys.duplicates > 0)
      r.add({name, Health::warning,
             fmt::format("{} keys, {} more given twice (ignored): remove the duplicates", keys.keys.size(),
                         keys.duplicates)},
            k_config_code);
    else if (keys.keys.size() == 1)
      r.add({name, Health::warning, "1 key: a spent key leaves nothing to move to; give several, comma-separated"},
            k_config_code);
    else
      r.add({name, Health::ok, fmt::format("{} keys", keys.keys.size())}, k_config_code);
  }
}

// Whether a file can be created in `dir`; a directory that does not exist yet counts when its nearest
// existing ancestor is writable (the tools create it).
HealthCheck check_directory(const std::string& what, const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) return {what, Health::critical, dir.string() + " is not a directory"};
    auto probe = (dir / ".oos-health-validate.XXXXXX").string();
    util::Fd fd(::mkostemp(probe.data(), O_CLOEXEC));
    if (!fd)
      return {what, Health::critical,
              fmt::format("cannot create a file in {}: {}", dir.string(), std::generic_category().message(errno))};
    ::unlink(probe.c_str());
    return {what, Health::ok, dir.string() + " is writable"};
  }
  auto ancestor = dir.parent_path();
  while (!ancestor.empty() && !fs::exists(ancestor, ec) && ancestor != ancestor.parent_path())
    ancestor = ancestor.parent_path();
  if (::access(ancestor.c_str(), W_OK | X_OK) != 0)
    return {what, Health::critical,
            fmt::format("{} does not exist and cannot be created in {}: {}", dir.string(), ancestor.string(),
                        std::generic_category().message(errno))};
  return {what, Health::ok, dir.string() + " does not exist yet; it will be created"};
}

std::vector<HealthCheck> check_units(const fs::path& root) {
  static const std::vector<std::string> k_unit_dirs{"etc/systemd/system", "usr/local/lib/systemd/system",
                                                    "usr/lib/systemd/system", "lib/systemd/system"};
  std::vector<std::string> found, missing;
  for (const auto& unit : k_installed_units) {
    bool here = false;
    for (const auto& dir : k_unit_dirs) here = here || fs::exists(root / dir / unit);
    (here ? found : missing).push_back(unit);
  }
  if (found.empty())
    return {{"units", Health::ok, fmt::format("not installed under {}: nothing to check", root.string())}};
  std::vector<HealthCheck> out;
  if (!missing.empty())
    out.push_back({"units", Health::critical,
                   fmt::format("{} of {} installed; missing {}: run 'make install' again", found.size(),
                               k_installed_units.size(), fmt::join(missing, ", "))});
  if (!util::find_program("systemd-analyze")) {
    out.push_back({"units verify", Health::warning, "systemd-analyze is not installed: units not verified"});
    return out;
  }
  std::vector<std::string> argv{"systemd-analyze", "verify"};
  if (root != "/") argv.push_back("--root=" + root.string());
  for (auto unit : found) {
    if (auto at = unit.find("@."); at != std::string::npos) unit.insert(at + 1, "1");
    argv.push_back(unit);
  }
  auto result = util::run_program(argv);
  // verify prints warnings on stderr and may still exit 0: anything it says is a finding.
  std::set<std::string> lines;
  std::istringstream err(result.err);
  for (std::string line; std::getline(err, line);)
    if (!line.empty()) lines.insert(line);
  if (lines.empty() && result.exit_code == 0)
    out.push_back(
        {"units verify", Health::ok, fmt::format("systemd-analyze verify is silent for {} units", found.size())});
  else
    out.push_back({"units verify", Health::critical,
                   fmt::format("systemd-analyze verify (exit {}): {}", result.exit_code, fmt::join(lines, " | "))});
  if (missing.empty())
    out.insert(out.begin(), {"units", Health::ok, fmt::format("all {} installed", k_installed_units.size())});
  return out;
}

}  // namespace

Validation validate(const ValidateSources& s) {
  Report r;
  auto source = s.config.source.empty() ? std::string("built-in defaults") : s.config.source.string();
  r.add({"config", Health::ok,
         fmt::format("{} is valid: {} handlers, {} queue tables, {} search providers", source, s.config.handlers.size(),
                     s.config.queues.size(), s.config.search.providers.size())},
        k_config_code);
  check_secrets(s, r);
  check_key_rings(s, r);
  r.add(check_directory("state dir", s.state_dir), k_directory_code);
  r.add(check_directory("backup dir", s.backup_dir), k_directory_code);
  for (auto& check : check_units(s.root)) r.add(std::move(check), k_units_code);
  return r.v;
}

}  // namespace oos::health
