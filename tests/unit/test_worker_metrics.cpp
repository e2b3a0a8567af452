// A worker's own metrics (oos_worker_<name>.prom) and the files the worker writes (worker::MetricsFiles).
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <memory>
#include <string>

#include "metrics/worker_metrics.hpp"
#include "store/sqlite_backend.hpp"
#include "store_fixture.hpp"
#include "util/files.hpp"
#include "worker/metrics_files.hpp"
#include "worker/worker.hpp"

using namespace oos;
using oos::test::StoreFixture;
namespace fs = std::filesystem;

namespace {

metrics::WorkerSample a_sample() {
  metrics::WorkerSample s;
  s.name = "3";
  s.started_at = 1'700'000'000'000;
  s.now = 1'700'000'060'500;
  s.usage = {52'428'800, 1.25, 7.5};
  s.tasks_started = 10;
  s.succeeded = 6;
  s.failed = 2;
  s.released = 1;
  s.lost = 0;
  return s;
}

// A worker named `name` on the fixture's database, and the files it writes into <dir>/metrics.
struct MetricsFilesFixture : StoreFixture {
  fs::path metrics_dir = dir / "metrics";
  store::SqliteBackend backend{*db, config, clock, *logger};
  std::unique_ptr<worker::Worker> worker;

  explicit MetricsFilesFixture(const std::string& name = "host:42") {
    fs::create_directories(metrics_dir);
    config.metrics.textfile_dir = metrics_dir.string();
    worker::WorkerOptions options;
    options.name = name;
    options.queues = {"default"};
    worker = std::make_unique<worker::Worker>(backend, config, clock, *logger, options, worker::HandlerInputs{});
  }
  std::string file(const std::string& name) { return util::read_file(metrics_dir / name).value_or(""); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(worker_metrics)

BOOST_AUTO_TEST_CASE(a_running_worker_reports_its_process_and_its_tasks) {
  auto text = metrics::worker_exposition(a_sample()).text();
  BOOST_TEST(text ==
             "# HELP oos_worker_running 1 while the worker runs; 0 in the file it leaves when it stops\n"
             "# TYPE oos_worker_running gauge\n"
             "oos_worker_running{worker=\"3\"} 1\n"
             "# HELP oos_worker_start_time_seconds When the worker started (Unix time)\n"
             "# TYPE oos_worker_start_time_seconds gauge\n"
             "oos_worker_start_time_seconds{worker=\"3\"} 1700000000\n"
             "# HELP oos_worker_last_update_timestamp_seconds When the worker last wrote this file (Unix time; "
             "every worker.metrics_interval while it runs)\n"
             "# TYPE oos_worker_last_update_timestamp_seconds gauge\n"
             "oos_worker_last_update_timestamp_seconds{worker=\"3\"} 1700000060.5\n"
             "# HELP oos_worker_resident_memory_bytes Resident set size of the worker process\n"
             "# TYPE oos_worker_resident_memory_bytes gauge\n"
             "oos_worker_resident_memory_bytes{worker=\"3\"} 52428800\n"
             "# HELP oos_worker_cpu_seconds_total User and system CPU time of the worker process\n"
             "# TYPE oos_worker_cpu_seconds_total counter\n"
             "oos_worker_cpu_seconds_total{worker=\"3\"} 1.25\n"
             "# HELP oos_worker_handler_cpu_seconds_total User and system CPU time of the handler processes the "
             "worker ran (once they have exited)\n"
             "# TYPE oos_worker_handler_cpu_seconds_total counter\n"
             "oos_worker_handler_cpu_seconds_total{worker=\"3\"} 7.5\n"
             "# HELP oos_worker_tasks_started_total Tasks the worker claimed and started since it started\n"
             "# TYPE oos_worker_tasks_started_total counter\n"
             "oos_worker_tasks_started_total{worker=\"3\"} 10\n"
             "# HELP oos_worker_tasks_finished_total Tasks the worker finished since it started, by outcome "
             "(failed: retried or dead; released: handed back at shutdown; lost: its lease expired while running)\n"
             "# TYPE oos_worker_tasks_finished_total counter\n"
             "oos_worker_tasks_finished_total{worker=\"3\",outcome=\"succeeded\"} 6\n"
             "oos_worker_tasks_finished_total{worker=\"3\",outcome=\"failed\"} 2\n"
             "oos_worker_tasks_finished_total{worker=\"3\",outcome=\"released\"} 1\n"
             "oos_worker_tasks_finished_total{worker=\"3\",outcome=\"lost\"} 0\n");
}

BOOST_AUTO_TEST_CASE(a_stopped_worker_says_so) {
  auto sample = a_sample();
  sample.phase = metrics::WorkerPhase::stopped;
  auto text = metrics::worker_exposition(sample).text();
  BOOST_TEST(text.find("\noos_worker_running{worker=\"3\"} 0\n") != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(each_worker_name_has_its_own_file) {
  BOOST_TEST(metrics::worker_textfile_tool("3") == "worker_3");
  BOOST_TEST(metrics::worker_textfile_tool("host:42") == "worker_host:42");
  BOOST_TEST(metrics::worker_textfile_tool("..") == "worker_..");  // oos_worker_...prom: a plain file name
}

BOOST_FIXTURE_TEST_CASE(the_worker_writes_its_file_and_the_queues_file, MetricsFilesFixture) {
  add("default");
  worker::MetricsFiles files(backend, config, clock, *logger);
  files.write(*worker);
  auto own = file("oos_worker_host:42.prom");
  BOOST_TEST(own.find("\noos_worker_running{worker=\"host:42\"} 1\n") != std::string::npos, own);
  BOOST_TEST(own.find("\noos_worker_start_time_seconds{worker=\"host:42\"} 1700000000\n") != std::string::npos);
  auto queue_file = file("oos_queue.prom");
  BOOST_TEST(queue_file.find("\noos_queue_runnable_tasks{queue=\"default\"} 1\n") != std::string::npos, queue_file);

  files.write(*worker, metrics::WorkerPhase::stopped);
  own = file("oos_worker_host:42.prom");
  BOOST_TEST(own.find("\noos_worker_running{worker=\"host:42\"} 0\n") != std::string::npos, own);
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(metrics_dir)) ++entries;
  BOOST_TEST(entries == 2);  // no temporary file left behind
}

BOOST_FIXTURE_TEST_CASE(without_a_textfile_dir_nothing_is_written, MetricsFilesFixture) {
  config.metrics.textfile_dir.clear();
  worker::MetricsFiles files(backend, config, clock, *logger);
  files.write(*worker);
  BOOST_TEST(fs::is_empty(metrics_dir));
}

BOOST_FIXTURE_TEST_CASE(a_missing_directory_does_not_stop_the_worker, MetricsFilesFixture) {
  fs::remove_all(metrics_dir);
  worker::MetricsFiles files(backend, config, clock, *logger);
  BOOST_CHECK_NO_THROW(files.write(*worker));
  BOOST_CHECK_NO_THROW(files.write(*worker, metrics::WorkerPhase::stopped));
  BOOST_TEST(!fs::exists(metrics_dir));
}

BOOST_AUTO_TEST_SUITE_END()
