// A worker process's metrics, for <metrics.textfile_dir>/oos_worker_<name>.prom (docs/reference.md section 13).
// Prefixed oos_worker_ rather than process_: node_exporter exposes its own process_* series.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "metrics/exposition.hpp"
#include "util/process_usage.hpp"
#include "util/time.hpp"

namespace oos::metrics {

enum class WorkerPhase { running, stopped };

// What a worker reports about itself; plain values so that the exposition is a pure function.
struct WorkerSample {
  std::string name;  // --name; the label worker="NAME" of every sample
  WorkerPhase phase = WorkerPhase::running;
  util::UnixMillis started_at = 0;
  util::UnixMillis now = 0;
  util::ProcessUsage usage;
  std::int64_t tasks_started = 0;
  std::int64_t succeeded = 0;
  std::int64_t failed = 0;    // retried or dead
  std::int64_t released = 0;  // handed back on shutdown
  std::int64_t lost = 0;      // lease lost while running
};

// The exposition of `sample`; pure. Metrics, each labelled worker="NAME":
//   oos_worker_running                        1, or 0 in the file a worker leaves when it stops
//   oos_worker_start_time_seconds             Unix time
//   oos_worker_last_update_timestamp_seconds  when the file was written (Unix time)
//   oos_worker_resident_memory_bytes
//   oos_worker_cpu_seconds_total              counter: the worker's own user + system time
//   oos_worker_handler_cpu_seconds_total      counter: its handlers' (children reaped so far)
//   oos_worker_tasks_started_total            counter
//   oos_worker_tasks_finished_total{outcome}  counter; outcome: succeeded, failed, released, lost
Exposition worker_exposition(const WorkerSample& sample);

// The textfile's name part for worker `name`: write_textfile(dir, worker_textfile_tool(name), ...) writes
// oos_worker_<name>.prom. Worker names (letters, digits, _ - . :) never hold a '/', and the prefix keeps
// "." and ".." from meaning a directory, so the name is used as it is: one file per worker name.
std::string worker_textfile_tool(std::string_view name);

}  // namespace oos::metrics
