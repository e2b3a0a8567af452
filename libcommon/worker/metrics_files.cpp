#include "worker/metrics_files.hpp"

#include <exception>

#include "metrics/queue_metrics.hpp"

namespace oos::worker {

MetricsFiles::MetricsFiles(store::Backend& backend, const config::Config& config, const util::Clock& clock,
                           log::Logger& logger)
    : m_backend(backend), m_config(config), m_clock(clock), m_logger(logger), m_started_at(clock.now()) {}

void MetricsFiles::write(const Worker& worker, metrics::WorkerPhase phase) {
  const auto& dir = m_config.metrics.textfile_dir;
  if (dir.empty()) return;
  const auto& c = worker.counters();
  const auto& name = worker.options().name;
  auto now = m_clock.now();
  metrics::WorkerSample sample{name,      phase,       m_started_at, now,        util::process_usage(),
                               c.started, c.succeeded, c.failed,     c.released, c.lost};
  std::string problem;
  if (auto written =
          metrics::write_textfile(dir, metrics::worker_textfile_tool(name), metrics::worker_exposition(sample).text());
      !written)
    problem = written.error();
  try {
    auto queues = metrics::queue_metrics(m_backend, now);
    if (auto written = metrics::write_textfile(dir, "queue", queues.text()); !written && problem.empty())
      problem = written.error();
  } catch (const std::exception& e) {
    // The worker's own step meets a database problem too, and handles it; the metrics only report it.
    if (problem.empty()) problem = std::string("oos_queue.prom not written: the queues could not be read: ") + e.what();
  }
  if (problem.empty()) {
    m_last_problem.clear();
    return;
  }
  warn(problem, name);
}

void MetricsFiles::warn(const std::string& problem, const std::string& worker) {
  if (problem == m_last_problem) return;
  m_last_problem = problem;
  m_logger.warn(problem + ", ignoring", {{"worker", worker}});
}

}  // namespace oos::worker
