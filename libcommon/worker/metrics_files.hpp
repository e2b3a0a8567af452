// The worker's textfiles for node_exporter (docs/reference.md section 13), written into metrics.textfile_dir at each
// worker.metrics_interval and once on exit: oos_worker_<name>.prom (this process) and oos_queue.prom (every
// queue). Every worker writes oos_queue.prom, whole and atomically, so it stays fresh while any worker runs
// (see docs/decisions.md).
#pragma once

#include <string>

#include "config.hpp"
#include "log.hpp"
#include "metrics/worker_metrics.hpp"
#include "store/backend.hpp"
#include "util/time.hpp"
#include "worker/worker.hpp"

namespace oos::worker {

class MetricsFiles {
 public:
  // The worker's start time is taken now. The queues are read from `backend` (on PostgreSQL: every host's).
  MetricsFiles(store::Backend& backend, const config::Config& config, const util::Clock& clock, log::Logger& logger);

  // Writes both files; nothing when metrics.textfile_dir is empty. Never throws: a file that cannot be
  // written, or a database that cannot be read, is a warning (logged once until the problem changes).
  void write(const Worker& worker, metrics::WorkerPhase phase = metrics::WorkerPhase::running);

 private:
  void warn(const std::string& problem, const std::string& worker);

  store::Backend& m_backend;
  const config::Config& m_config;
  const util::Clock& m_clock;
  log::Logger& m_logger;
  util::UnixMillis m_started_at;
  std::string m_last_problem;
};

}  // namespace oos::worker
