#include "metrics/worker_metrics.hpp"

namespace oos::metrics {

Exposition worker_exposition(const WorkerSample& s) {
  Exposition out;
  Labels worker{{"worker", s.name}};
  auto count = [](std::int64_t n) { return static_cast<double>(n); };
  out.add("oos_worker_running", Type::gauge, "1 while the worker runs; 0 in the file it leaves when it stops",
          s.phase == WorkerPhase::running ? 1 : 0, worker)
      .add("oos_worker_start_time_seconds", Type::gauge, "When the worker started (Unix time)",
           static_cast<double>(s.started_at) / 1000, worker)
      .add("oos_worker_last_update_timestamp_seconds", Type::gauge,
           "When the worker last wrote this file (Unix time; every worker.metrics_interval while it runs)",
           static_cast<double>(s.now) / 1000, worker)
      .add("oos_worker_resident_memory_bytes", Type::gauge, "Resident set size of the worker process",
           static_cast<double>(s.usage.rss_bytes), worker)
      .add("oos_worker_cpu_seconds_total", Type::counter, "User and system CPU time of the worker process",
           s.usage.cpu_seconds, worker)
      .add("oos_worker_handler_cpu_seconds_total", Type::counter,
           "User and system CPU time of the handler processes the worker ran (once they have exited)",
           s.usage.children_cpu_seconds, worker)
      .add("oos_worker_tasks_started_total", Type::counter, "Tasks the worker claimed and started since it started",
           count(s.tasks_started), worker);
  const char* finished_help =
      "Tasks the worker finished since it started, by outcome (failed: retried or dead; released: handed back "
      "at shutdown; lost: its lease expired while running)";
  for (auto [outcome, n] : {std::pair{"succeeded", s.succeeded}, std::pair{"failed", s.failed},
                            std::pair{"released", s.released}, std::pair{"lost", s.lost}}) {
    Labels labels = worker;
    labels.emplace_back("outcome", outcome);
    out.add("oos_worker_tasks_finished_total", Type::counter, finished_help, count(n), labels);
  }
  return out;
}

std::string worker_textfile_tool(std::string_view name) {
  return "worker_" + std::string(name);
}

}  // namespace oos::metrics
