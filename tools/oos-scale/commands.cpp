#include "commands.hpp"

#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/job.hpp"
#include "app/output.hpp"
#include "error.hpp"
#include "policy/health.hpp"
#include "scale/run.hpp"
#include "sd/unit_manager.hpp"
#include "worker/runner.hpp"

namespace oos::tools::scale {
namespace {

using metrics::Type;
using nlohmann::json;

// Without a service manager, oos-scale counts the workers whose heartbeat is fresh as oos-health judges it.
static_assert(policy::k_stale_heartbeat == 3 * worker::k_heartbeat_interval);

// systemd's manager, or null when none is asked: scale.manager = "none", or a dry run that cannot reach
// systemd (it only reports, so it goes on from the workers' heartbeats). A real run that cannot reach it
// throws (69).
std::unique_ptr<sd::UnitManager> connect(const Command& c, app::Context& context) {
  if (context.config.scale.manager != "systemd") return nullptr;
  try {
    return sd::UnitManager::connect_system_bus();
  } catch (const Error& e) {
    if (c.dry_run == DryRun::no) throw;
    context.logger->warn(std::string(e.what()) + "; --dry-run goes on with the workers' heartbeats");
    return nullptr;
  }
}

void add_metrics(const oos::scale::RunReport& r, metrics::Exposition& metrics) {
  metrics.add("oos_scale_workers", Type::gauge, "Workers up when oos-scale last ran", r.current)
      .add("oos_scale_workers_desired", Type::gauge, "Workers the last decision asked for", r.decision.desired)
      .add("oos_scale_runnable_tasks", Type::gauge, "Runnable tasks in the workers' queues",
           static_cast<double>(r.sample.runnable))
      .add("oos_scale_load1", Type::gauge, "1-minute load average", r.sample.load1)
      .add("oos_scale_memory_available_ratio", Type::gauge, "MemAvailable / MemTotal",
           r.sample.memory_available_percent / 100)
      .add("oos_scale_throttled", Type::gauge, "Whether sustained load held the workers back", r.decision.throttled)
      .add("oos_scale_memory_pressure", Type::gauge, "Whether memory pressure held the workers back",
           r.decision.memory_pressure)
      .add("oos_scale_recommendations", Type::gauge, "Recommendations of the last run",
           static_cast<double>(r.recommendations.size()));
}

int scale(const Command& c, app::Context& context, store::Backend& backend, metrics::Exposition& metrics) {
  const oos::scale::RunContext run_context{backend,         context.config,    context.clock,
                                           *context.logger, context.state_dir, context.backup_dir()};
  std::unique_ptr<sd::UnitManager> manager;
  try {
    manager = connect(c, context);
  } catch (const Error&) {
    oos::scale::record_sample(run_context);  // the load history keeps this run's sample
    throw;
  }
  auto report = oos::scale::run(run_context, manager.get(), c.dry_run);
  add_metrics(report, metrics);
  if (c.json) {
    std::cout << app::dump(json{{"current", report.current},
                                {"desired", report.decision.desired},
                                {"reasons", report.decision.reasons},
                                {"actions", report.actions},
                                {"recommendations", report.recommendations},
                                {"applied", report.applied}})
              << '\n';
  } else {
    std::cout << report.summary << '\n';
    for (const auto& line : report.recommendations) std::cout << "recommendation: " << line << '\n';
  }
  return 0;
}

}  // namespace

int run(const Command& c, app::Context& context, store::Backend& backend) {
  return app::run_job(context, {"scale", ""},
                      [&](metrics::Exposition& metrics) { return scale(c, context, backend, metrics); });
}

}  // namespace oos::tools::scale
