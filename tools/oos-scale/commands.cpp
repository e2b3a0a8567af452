#include "commands.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <csignal>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/job.hpp"
#include "app/output.hpp"
#include "cleanup/cleanup.hpp"
#include "db/events.hpp"
#include "error.hpp"
#include "integrity/integrity.hpp"
#include "policy/health.hpp"
#include "policy/scaling.hpp"
#include "queue/queue_store.hpp"
#include "queue/task_store.hpp"
#include "queue/worker_registry.hpp"
#include "scale/instances.hpp"
#include "scale/recommendations.hpp"
#include "scale/sample_store.hpp"
#include "scale/sampling.hpp"
#include "sd/unit_manager.hpp"
#include "worker/runner.hpp"

namespace oos::tools::scale {
namespace {

using metrics::Type;
using nlohmann::json;

// Samples are kept this long beyond the load window (for `oos-health` and a look back).
constexpr util::Millis k_sample_retention{60 * 60 * 1000};

bool is_up(const std::string& active_state) {
  return active_state == "active" || active_state == "activating" || active_state == "reloading";
}

// Workers with a fresh heartbeat (as oos-health judges it) count as running when no service manager is asked.
static_assert(policy::k_stale_heartbeat == 3 * worker::k_heartbeat_interval);

int live_workers(db::Database& db, util::UnixMillis now) {
  int live = 0;
  for (const auto& row : queue::WorkerRegistry(db).list())
    if (policy::heartbeat_is_fresh(row.heartbeat_at, now)) ++live;
  return live;
}

std::vector<std::string> recommendations(app::Context& context, db::Database& db, const policy::ScaleInput& input,
                                         const policy::ScaleDecision& decision) {
  const auto& config = context.config;
  oos::scale::RecommendationInput in;
  in.now = input.now;
  in.desired_workers = decision.desired;
  in.max_workers = config.scale.max_workers;
  in.runnable = input.runnable;
  if (!input.history.empty() && input.history.front().at < input.now) {
    in.runnable_earlier = input.history.front().runnable;
    in.window = util::Millis(input.now - input.history.front().at);
  }
  queue::QueueStore queues(db, config, *context.logger);
  for (const auto& q : queues.status(input.now))
    in.queues.push_back({q.name, q.counts.dead, q.breaker.state == policy::BreakerState::open, q.breaker.opened_at});
  in.fragmentation_percent = integrity::fragmentation(db).percent;
  in.vacuum_threshold_percent = config.integrity.vacuum_threshold_percent;
  for (const auto& dir : {context.state_dir, context.backup_dir()})
    if (auto usage = oos::cleanup::disk_usage(dir)) in.disks.push_back({dir.string(), usage->used_percent});
  in.disk_threshold_percent = config.cleanup.threshold_percent;
  return oos::scale::recommend(in);
}

int scale(const Command& c, app::Context& context, db::Database& db, metrics::Exposition& metrics) {
  const auto& settings = context.config.scale;
  auto now = context.clock.now();
  queue::TaskStore tasks(db, context.config, context.clock, *context.logger);
  auto sample = oos::scale::take_sample(now, tasks.runnable_count(context.config.worker.queues));
  if (!sample) throw Error(ExitCode::io_error, "cannot sample the host: " + sample.error());
  oos::scale::SampleStore samples(db);
  samples.record(*sample);
  samples.prune(now - (settings.load_window + k_sample_retention).count());

  // With scale.manager = "none" (or a dry run where systemd cannot be reached) there are no units to count or
  // change: the workers with a fresh heartbeat are the current count, and the decision is only reported.
  bool systemd = settings.manager == "systemd";
  std::unique_ptr<sd::UnitManager> manager;
  std::vector<std::string> running;
  int current = 0;
  if (systemd) {
    try {
      manager = sd::UnitManager::connect_system_bus();
    } catch (const Error& e) {
      if (c.dry_run == DryRun::no) throw;
      // A dry run only reports: without systemd, it reports from the heartbeats like scale.manager = "none".
      context.logger->warn(std::string(e.what()) + "; --dry-run goes on with the workers' heartbeats");
      systemd = false;
    }
  }
  if (systemd) {
    for (const auto& unit : manager->list(oos::scale::instance_glob(settings.unit)))
      if (is_up(unit.active_state)) running.push_back(unit.name);
    current = static_cast<int>(running.size());
  } else {
    current = live_workers(db, now);
  }
  policy::ScaleInput input;
  input.current_workers = current;
  input.runnable = sample->runnable;
  input.now = now;
  input.history = samples.history(now - settings.load_window.count());
  auto decision = policy::decide_scale(settings, input);
  auto plan =
      systemd ? oos::scale::plan_instances(settings.unit, running, decision.desired) : oos::scale::InstancePlan{};
  bool apply = systemd && c.dry_run == DryRun::no;

  std::vector<std::string> actions;
  for (const auto& unit : plan.start) {
    if (apply) manager->start(unit);
    actions.push_back("start " + unit);
  }
  for (const auto& unit : plan.stop) {
    if (apply) manager->stop(unit);
    actions.push_back("stop " + unit);
  }
  if (decision.memory_pressure && systemd)
    for (const auto& unit : running) {
      if (std::find(plan.stop.begin(), plan.stop.end(), unit) != plan.stop.end()) continue;
      if (apply) manager->signal_main(unit, SIGUSR1);
      actions.push_back("release memory " + unit);
    }
  auto advice = recommendations(context, db, input, decision);

  auto summary = fmt::format("{}workers {} -> {}: {}{}", apply ? "" : "not applied: ", current, decision.desired,
                             fmt::join(decision.reasons, "; "),
                             actions.empty() ? "" : fmt::format(" ({})", fmt::join(actions, ", ")));
  if (apply && (!plan.start.empty() || !plan.stop.empty()))
    db::record_event_alone(db, now, "scale.changed", "workers", summary);
  context.logger->info(summary);
  for (const auto& line : advice) context.logger->warn("recommendation: " + line);

  metrics.add("oos_scale_workers", Type::gauge, "Workers up when oos-scale last ran", current)
      .add("oos_scale_workers_desired", Type::gauge, "Workers the last decision asked for", decision.desired)
      .add("oos_scale_runnable_tasks", Type::gauge, "Runnable tasks in the workers' queues",
           static_cast<double>(sample->runnable))
      .add("oos_scale_load1", Type::gauge, "1-minute load average", sample->load1)
      .add("oos_scale_memory_available_ratio", Type::gauge, "MemAvailable / MemTotal",
           sample->memory_available_percent / 100)
      .add("oos_scale_throttled", Type::gauge, "Whether sustained load held the workers back", decision.throttled)
      .add("oos_scale_memory_pressure", Type::gauge, "Whether memory pressure held the workers back",
           decision.memory_pressure)
      .add("oos_scale_recommendations", Type::gauge, "Recommendations of the last run",
           static_cast<double>(advice.size()));

  if (c.json) {
    std::cout << app::dump(json{{"current", current},
                                {"desired", decision.desired},
                                {"reasons", decision.reasons},
                                {"actions", actions},
                                {"recommendations", advice},
                                {"applied", apply}})
              << '\n';
  } else {
    std::cout << summary << '\n';
    for (const auto& line : advice) std::cout << "recommendation: " << line << '\n';
  }
  return 0;
}

}  // namespace

int run(const Command& c, app::Context& context, db::Database& db) {
  return app::run_job(context, {"scale", ""},
                      [&](metrics::Exposition& metrics) { return scale(c, context, db, metrics); });
}

}  // namespace oos::tools::scale
