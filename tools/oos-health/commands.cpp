#include "commands.hpp"

#include <cstdlib>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/job.hpp"
#include "app/output.hpp"
#include "backends/open.hpp"
#include "error.hpp"
#include "health/observe.hpp"
#include "health/validate.hpp"
#include "policy/health.hpp"
#include "secrets.hpp"
#include "store/database_url.hpp"

namespace oos::tools::health {
namespace {

using policy::Health;
using policy::HealthCheck;

// The summary line (with Nagios performance data after " | ", when there is any), then one line per check; or
// the same as one JSON document, with the key rings of `input` (a check's, not validate's).
void print(const std::vector<HealthCheck>& checks, bool as_json, int exit_code,
           const policy::HealthInput* input = nullptr) {
  auto perfdata = input ? policy::perfdata(*input) : std::string();
  if (as_json) {
    std::cout << app::dump(input ? app::health_document(checks, exit_code, perfdata, input->key_rings, input->now)
                                 : app::health_document(checks, exit_code, perfdata))
              << '\n';
    return;
  }
  std::cout << policy::summary_line(checks) << (perfdata.empty() ? "" : " | " + perfdata) << '\n';
  for (const auto& c : checks) std::cout << policy::to_string(c.status) << ' ' << c.name << ": " << c.message << '\n';
}

// What stops the check before it can look: a Nagios plugin says UNKNOWN (3), on stdout, in the same format.
int unknown(const Command& c, const std::string& cause) {
  print({{"oos-health", Health::unknown, cause}}, c.json, static_cast<int>(Health::unknown));
  return static_cast<int>(Health::unknown);
}

// What the check looks at: the state directory's SQLite database, or the shared PostgreSQL when db.url or
// $OOS_DATABASE_URL is set (its server checks instead of the backups and integrity, which are the server's).
policy::HealthInput observe(app::Context& context) {
  oos::health::Sources sources{context.config, context.state_dir, context.backup_dir(), context.clock.now()};
  if (!store::resolve_database_url(context.config.db.url, std::getenv("OOS_DATABASE_URL")))
    return oos::health::observe(sources, *context.logger);
  std::unique_ptr<store::Backend> backend;
  try {
    backend = store::open_backend(context, db::Access::read_only);
  } catch (const Error& e) {  // the message names the server, never the URL or the password
    return oos::health::unreachable(sources, e.what(), oos::health::database_failure_status(e.code()));
  }
  return oos::health::observe_shared(sources, *backend, context.clock);
}

int check(const Command& c) {
  std::optional<app::Context> context;
  try {
    context.emplace(app::make_context("oos-health", c.common));
  } catch (const Error& e) {
    if (e.code() == ExitCode::usage) throw;
    return unknown(c, e.what());
  }
  try {
    return app::run_job(*context, {"health", "", {0, 1, 2}}, [&](metrics::Exposition& metrics) {
      auto input = observe(*context);
      auto checks = policy::assess(input);
      auto status = policy::overall(checks);
      metrics.add("oos_health_status", metrics::Type::gauge, "Overall health: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN",
                  static_cast<double>(status));
      for (const auto& check : checks)
        metrics.add("oos_health_check_status", metrics::Type::gauge,
                    "Each check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN", static_cast<double>(check.status),
                    {{"check", check.name}});
      print(checks, c.json, static_cast<int>(status), &input);
      return static_cast<int>(status);
    });
  } catch (const std::exception&) {
    return unknown(c, app::describe_failure(std::current_exception(), context->db_path()).message);
  }
}

int validate(const Command& c) {
  try {
    config::load_config(c.common.config_path);
  } catch (const Error& e) {
    if (e.code() != ExitCode::config) throw;
    print({{"config", Health::critical, e.what()}}, c.json, static_cast<int>(ExitCode::config));
    return static_cast<int>(ExitCode::config);
  }
  auto context = app::make_context("oos-health", c.common);
  auto secrets = secrets::SecretStore::from_environment();
  auto result = oos::health::validate({context.config, secrets, context.state_dir, context.backup_dir(), c.root});
  print(result.checks, c.json, result.exit_code);
  return result.exit_code;
}

}  // namespace

int run(const Command& command) {
  return app::run_main("oos-health", [&](app::RunState&) {
    return command.verb == Verb::validate ? validate(command) : check(command);
  });
}

}  // namespace oos::tools::health
