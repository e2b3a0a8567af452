// One oos-scale run (docs/reference.md section 18): sample the host and the queues, keep the sample, decide how many
// workers should run (policy/scaling), start or stop worker instances and ask them to release memory
// (scale/apply), and say why, with recommendations for the operator.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config.hpp"
#include "dry_run.hpp"
#include "log.hpp"
#include "policy/scaling.hpp"
#include "scale/sampling.hpp"
#include "sd/unit_manager.hpp"
#include "store/backend.hpp"
#include "util/process_usage.hpp"
#include "util/time.hpp"

namespace oos::scale {

// What a run reads and writes.
struct RunContext {
  store::Backend& backend;  // the queues, the workers, this host's samples and the events (SQLite or PostgreSQL)
  const config::Config& config;
  const util::Clock& clock;
  log::Logger& logger;
  std::filesystem::path state_dir;   // its disk, for the recommendations
  std::filesystem::path backup_dir;  // likewise
  SampleSources sources{};           // the /proc files sampled
  // This host's name: on a shared database (no SQLite file), only its workers' heartbeats count as running.
  std::string host = util::host_name();
};

struct RunReport {
  Sample sample;    // taken now, and recorded
  int current = 0;  // workers up: the template's instances, or the fresh heartbeats without a manager
  policy::ScaleDecision decision;
  std::vector<std::string> actions;  // as apply() returns them; none without a manager
  std::vector<std::string> recommendations;
  bool applied = false;  // whether the actions were carried out: a manager, and not a dry run
  std::string summary;   // "workers 1 -> 3: REASONS (ACTIONS)", after "not applied: " unless applied
};

// Records the sample (pruning those older than the load window and an hour), decides and acts through
// `manager`, logs the summary and the recommendations, and records a scale.changed event when instances were
// started or stopped. `manager` is null when no service manager is asked (scale.manager = "none", or a dry run
// that could not reach systemd): the workers with a fresh heartbeat are then the current count (on PostgreSQL,
// those of this host), and the decision is only reported. The queue depth is the backend's: on PostgreSQL every
// host's tasks, so each host sizes its workers for the whole backlog (within scale.max_workers). Throws oos::Error: 74
// when the host cannot be sampled, 69 when systemd fails.
RunReport run(const RunContext& context, sd::UnitManager* manager, DryRun dry_run);

// Takes and records a sample only (pruning as run() does): for a run that cannot go on because systemd is
// unreachable, so the load history the next decisions read has no gap. Throws oos::Error 74 when the host
// cannot be sampled.
Sample record_sample(const RunContext& context);

}  // namespace oos::scale
