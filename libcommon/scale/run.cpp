#include "scale/run.hpp"

#include <fmt/format.h>

#include "cleanup/cleanup.hpp"
#include "error.hpp"
#include "integrity/integrity.hpp"
#include "policy/health.hpp"
#include "queue/queue_store.hpp"
#include "scale/apply.hpp"
#include "scale/recommendations.hpp"

namespace oos::scale {
namespace {

// Samples are kept this long beyond the load window (for `oos-health` and a look back).
constexpr util::Millis k_sample_retention{60 * 60 * 1000};

// Workers with a fresh heartbeat (as oos-health judges it) count as running when no service manager is asked.
// The SQLite file is this host's own, so all of its rows are; on a shared database only this host's rows.
int live_workers(const RunContext& context, util::UnixMillis now) {
  const bool shared = context.backend.sqlite() == nullptr;
  int live = 0;
  for (const auto& row : context.backend.workers().list())
    if ((!shared || row.host == context.host) && policy::heartbeat_is_fresh(row.heartbeat_at, now)) ++live;
  return live;
}

std::vector<std::string> recommendations(const RunContext& context, const policy::ScaleInput& input,
                                         const policy::ScaleDecision& decision) {
  const auto& config = context.config;
  RecommendationInput in;
  in.now = input.now;
  in.desired_workers = decision.desired;
  in.max_workers = config.scale.max_workers;
  in.runnable = input.runnable;
  if (!input.history.empty() && input.history.front().at < input.now) {
    in.runnable_earlier = input.history.front().runnable;
    in.window = util::Millis(input.now - input.history.front().at);
  }
  for (const auto& q : context.backend.queues().status(input.now))
    in.queues.push_back({q.name, q.counts.dead, q.breaker.state == policy::BreakerState::open, q.breaker.opened_at});
  // Free pages are SQLite's to reclaim (oos-integrity vacuum); on PostgreSQL autovacuum's.
  if (auto* db = context.backend.sqlite()) in.fragmentation_percent = integrity::fragmentation(*db).percent;
  in.vacuum_threshold_percent = config.integrity.vacuum_threshold_percent;
  for (const auto& dir : {context.state_dir, context.backup_dir})
    if (auto usage = cleanup::disk_usage(dir)) in.disks.push_back({dir.string(), usage->used_percent});
  in.disk_threshold_percent = config.cleanup.threshold_percent;
  return recommend(in);
}

}  // namespace

Sample record_sample(const RunContext& context) {
  auto now = context.clock.now();
  auto sample = take_sample(now, context.backend.tasks().runnable_count(context.config.worker.queues), context.sources);
  if (!sample) throw Error(ExitCode::io_error, "cannot sample the host: " + sample.error());
  auto& samples = context.backend.samples();
  samples.record(*sample);
  samples.prune(now - (context.config.scale.load_window + k_sample_retention).count());
  return *sample;
}

RunReport run(const RunContext& context, sd::UnitManager* manager, DryRun dry_run) {
  const auto& settings = context.config.scale;
  auto sample = record_sample(context);
  auto now = sample.at;

  RunReport report;
  report.sample = sample;
  std::vector<std::string> running;
  if (manager) {
    running = running_instances(*manager, settings.unit);
    report.current = static_cast<int>(running.size());
  } else {
    report.current = live_workers(context, now);
  }
  policy::ScaleInput input;
  input.current_workers = report.current;
  input.runnable = sample.runnable;
  input.now = now;
  input.history = context.backend.samples().history(now - settings.load_window.count());
  report.decision = policy::decide_scale(settings, input);
  InstancePlan plan;
  if (manager) {
    plan = plan_instances(settings.unit, running, report.decision.desired);
    report.actions = apply(*manager, plan, running, report.decision.memory_pressure, dry_run);
  }
  report.applied = manager && dry_run == DryRun::no;
  report.recommendations = recommendations(context, input, report.decision);

  report.summary = fmt::format("{}workers {} -> {}: {}{}", report.applied ? "" : "not applied: ", report.current,
                               report.decision.desired, fmt::join(report.decision.reasons, "; "),
                               report.actions.empty() ? "" : fmt::format(" ({})", fmt::join(report.actions, ", ")));
  if (report.applied && (!plan.start.empty() || !plan.stop.empty()))
    context.backend.events().record(now, "scale.changed", context.backend.sqlite() ? "workers" : "host/" + context.host,
                                    report.summary);
  context.logger.info(report.summary);
  for (const auto& line : report.recommendations) context.logger.warn("recommendation: " + line);
  return report;
}

}  // namespace oos::scale
