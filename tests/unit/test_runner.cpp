// The worker loop (run_worker) runs in a forked child with a deadline (support/deadline.hpp): a loop that
// never ends fails its test instead of hanging the suite. The child reports what it saw as records.
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "config.hpp"
#include "db/database.hpp"
#include "error.hpp"
#include "log.hpp"
#include "queue/sqlite_task_store.hpp"
#include "queue/sqlite_worker_registry.hpp"
#include "store/sqlite_backend.hpp"
#include "support/deadline.hpp"
#include "support/temp_dir.hpp"
#include "util/time.hpp"
#include "worker/notify.hpp"
#include "worker/runner.hpp"
#include "worker/worker.hpp"

using namespace oos;
using oos::test::TempDir;

namespace {

// Keeps what would have gone to systemd, with the monotonic time it was sent.
struct RecordingNotifier final : worker::Notifier {
  std::vector<std::pair<double, std::string>> sent;
  void notify(const std::string& state) override { sent.emplace_back(util::monotonic_seconds(), state); }
};

// What the child saw, as "key\x1fvalue\x1e" records (values may hold newlines).
class Records {
 public:
  void add(const std::string& key, const std::string& value) { m_text += key + '\x1f' + value + '\x1e'; }
  const std::string& text() const { return m_text; }

 private:
  std::string m_text;
};

struct Report {
  std::vector<std::string> notes;  // in the order sent
  std::vector<double> note_times;
  std::vector<std::pair<std::string, std::string>> values;

  std::string value(const std::string& key) const {
    for (const auto& [k, v] : values)
      if (k == key) return v;
    BOOST_FAIL("the child reported no " + key);
    return "";
  }
  double number(const std::string& key) const { return std::stod(value(key)); }
  std::size_t count(const std::string& note) const {
    return static_cast<std::size_t>(std::count(notes.begin(), notes.end(), note));
  }
  bool has_note(const std::string& note) const { return count(note) > 0; }
};

Report parse(const std::string& text) {
  Report report;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto sep = text.find('\x1f', pos);
    auto end = text.find('\x1e', sep);
    BOOST_REQUIRE(sep != std::string::npos && end != std::string::npos);
    auto key = text.substr(pos, sep - pos);
    auto value = text.substr(sep + 1, end - sep - 1);
    if (key == "note")
      report.notes.push_back(value);
    else if (key == "note_at")
      report.note_times.push_back(std::stod(value));
    else
      report.values.emplace_back(key, value);
    pos = end + 1;
  }
  return report;
}

// Runs `body` in a child with a 10 s deadline; fails the test when the child hangs or crashes. The
// temporary directory belongs to the parent, so that it is removed even when the child is killed.
Report in_child(const std::function<void(const std::filesystem::path& dir, Records&)>& body) {
  TempDir dir;
  auto text = oos::test::run_with_deadline(
      [&] {
        // The child's stderr: loggers that write to it would clutter the test output.
        int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null >= 0) ::dup2(null, 2);
        Records records;
        try {
          body(dir.path(), records);
        } catch (const std::exception& e) {
          records.add("exception", e.what());
        }
        return records.text();
      },
      10);
  BOOST_REQUIRE_MESSAGE(text.has_value(), "the worker loop did not end within 10 s (or crashed)");
  auto report = parse(*text);
  for (const auto& [key, value] : report.values) BOOST_REQUIRE_MESSAGE(key != "exception", "the child threw: " + value);
  return report;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A state database and a worker on it, inside the child.
struct Setup {
  std::filesystem::path dir;
  config::Config config;
  util::SystemClock system_clock;
  util::ManualClock manual_clock{1'700'000'000'000};
  const util::Clock& clock;
  std::unique_ptr<log::Logger> logger;
  std::unique_ptr<db::Database> db;
  std::unique_ptr<queue::TaskStore> tasks;
  std::unique_ptr<store::SqliteBackend> backend;
  std::unique_ptr<worker::Worker> worker;

  // `log_file`: log at info level to <dir>/worker.log (JSON lines) instead of dropping everything. `manual`:
  // the store, the worker and the loop run on manual_clock (waits advance it) instead of the system clock.
  Setup(std::filesystem::path directory, bool drain, bool log_file = false,
        util::Millis busy_timeout = util::Millis(2000), bool manual = false)
      : dir(std::move(directory)), clock(manual ? static_cast<const util::Clock&>(manual_clock) : system_clock) {
    if (log_file) {
      config::LogSettings settings;
      settings.file = (dir / "worker.log").string();
      logger = std::make_unique<log::Logger>("oos-worker", config::LogLevel::info, config::LogFormat::json, settings);
    } else {
      logger = log::Logger::discard();
    }
    db = std::make_unique<db::Database>(db::OpenOptions{dir / "oos.db", config::Synchronous::normal, busy_timeout});
    tasks = std::make_unique<queue::SqliteTaskStore>(*db, config, clock, *logger);
    worker::WorkerOptions options;
    options.name = "w1";
    options.queues = {"default"};
    options.drain = drain;
    backend = std::make_unique<store::SqliteBackend>(*db, config, clock, *logger);
    worker = std::make_unique<worker::Worker>(*backend, config, clock, *logger, options, worker::HandlerInputs{});
  }

  void add(int n) {
    for (int i = 0; i < n; ++i) {
      queue::NewTask t;
      t.type = "job";
      tasks->enqueue(t);
    }
  }
  long long sql_int(const std::string& sql) { return db->raw().execAndGet(sql).getInt64(); }

  void report(Records& r, const RecordingNotifier& notifier) {
    for (const auto& [at, state] : notifier.sent) {
      r.add("note", state);
      r.add("note_at", std::to_string(at));
    }
    const auto& c = worker->counters();
    r.add("started", std::to_string(c.started));
    r.add("succeeded", std::to_string(c.succeeded));
    r.add("pending", std::to_string(sql_int("SELECT count(*) FROM tasks WHERE status = 'pending'")));
    r.add("log", read_file(dir / "worker.log"));
  }
};

worker::RunnerOptions fast_options() {
  worker::RunnerOptions o;
  o.watchdog = util::Millis(50);
  o.poll_interval = util::Millis(20);
  o.metrics_interval = std::chrono::hours(1);
  return o;
}

// A built-in handler whose run takes 60 ms on `clock` (on a ManualClock: no real waiting).
worker::InProcessHandler sleep_then_succeed(const util::Clock& clock) {
  return [&clock](const queue::Task&) {
    clock.sleep_for(60);
    return worker::InProcessResult{true, "ok", {}};
  };
}

// The log file's lines whose message starts with `prefix`.
std::vector<nlohmann::json> log_lines(const std::string& log, const std::string& prefix) {
  std::vector<nlohmann::json> out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    auto doc = nlohmann::json::parse(line);
    if (doc.at("msg").get<std::string>().starts_with(prefix)) out.push_back(doc);
  }
  return out;
}

volatile std::sig_atomic_t g_signalled_stop = 0;
extern "C" void on_test_stop_signal(int) {
  g_signalled_stop = 1;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(runner)

BOOST_AUTO_TEST_CASE(a_draining_worker_announces_ready_status_watchdog_and_stopping) {
  auto report = in_child([](const std::filesystem::path& dir, Records& r) {
    Setup s(dir, /*drain=*/true, /*log_file=*/false, util::Millis(2000), /*manual=*/true);
    s.add(3);
    s.worker->add_builtin("job", sleep_then_succeed(s.clock));
    RecordingNotifier notifier;
    volatile std::sig_atomic_t stop = 0;
    run_worker(*s.worker, notifier, *s.logger, fast_options(), stop);
    s.report(r, notifier);
  });
  BOOST_TEST(report.value("succeeded") == "3");
  BOOST_TEST(report.value("pending") == "0");
  BOOST_REQUIRE(report.notes.size() >= 3u);
  BOOST_TEST(report.notes.front() == "READY=1\nSTATUS=idle on default; 0 tasks run (0 succeeded, 0 failed)");
  BOOST_TEST(report.notes.back() == "STOPPING=1\nSTATUS=stopped");
  BOOST_TEST(report.has_note("STATUS=idle on default; 3 tasks run (3 succeeded, 0 failed)"));
  // Each task step takes 60 ms, more than the 50 ms interval: a ping after each of the three.
  BOOST_TEST(report.count("WATCHDOG=1") >= 3u);
  for (std::size_t i = 1; i + 1 < report.notes.size(); ++i)
    BOOST_TEST((report.notes[i] == "WATCHDOG=1" || report.notes[i].starts_with("STATUS=")), report.notes[i]);
}

BOOST_AUTO_TEST_CASE(a_stop_requested_before_the_start_claims_nothing) {
  auto report = in_child([](const std::filesystem::path& dir, Records& r) {
    Setup s(dir, /*drain=*/false, /*log_file=*/false, util::Millis(2000), /*manual=*/true);
    s.add(1);
    s.worker->add_builtin("job", sleep_then_succeed(s.clock));
    RecordingNotifier notifier;
    volatile std::sig_atomic_t stop = 1;
    run_worker(*s.worker, notifier, *s.logger, fast_options(), stop);
    s.report(r, notifier);
  });
  BOOST_TEST(report.value("started") == "0");
  BOOST_TEST(report.value("pending") == "1");
  BOOST_REQUIRE(!report.notes.empty());
  BOOST_TEST(report.notes.front().starts_with("READY=1\n"));
  BOOST_TEST(report.has_note("STOPPING=1"));
  BOOST_TEST(report.notes.back() == "STATUS=stopped");
}

BOOST_AUTO_TEST_CASE(a_stop_while_a_task_runs_lets_it_finish_and_claims_no_more) {
  auto report = in_child([](const std::filesystem::path& dir, Records& r) {
    Setup s(dir, /*drain=*/false, /*log_file=*/false, util::Millis(2000), /*manual=*/true);
    s.add(3);
    volatile std::sig_atomic_t stop = 0;
    s.worker->add_builtin("job", [&stop, &s](const queue::Task& t) {
      stop = 1;  // as the SIGTERM handler would, while the task runs
      return sleep_then_succeed(s.clock)(t);
    });
    RecordingNotifier notifier;
    run_worker(*s.worker, notifier, *s.logger, fast_options(), stop);
    s.report(r, notifier);
  });
  BOOST_TEST(report.value("started") == "1");
  BOOST_TEST(report.value("succeeded") == "1");
  BOOST_TEST(report.value("pending") == "2");
  BOOST_TEST(report.has_note("STOPPING=1"));
  BOOST_TEST(report.notes.back() == "STATUS=stopped");
}

BOOST_AUTO_TEST_CASE(a_stop_signal_is_seen_at_once_while_idle_and_the_watchdog_is_pinged_meanwhile) {
  auto report = in_child([](const std::filesystem::path& dir, Records& r) {
    Setup s(dir, /*drain=*/false);
    struct sigaction action {};
    action.sa_handler = on_test_stop_signal;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGUSR1, &action, nullptr);
    // SIGUSR1 in 150 ms, from a timer: the way SIGTERM reaches the real worker.
    sigevent event{};
    event.sigev_notify = SIGEV_SIGNAL;
    event.sigev_signo = SIGUSR1;
    timer_t timer{};
    if (::timer_create(CLOCK_MONOTONIC, &event, &timer) != 0) throw std::runtime_error("timer_create");
    itimerspec when{};
    when.it_value.tv_nsec = 150'000'000;
    ::timer_settime(timer, 0, &when, nullptr);
    auto options = fast_options();
    options.poll_interval = std::chrono::hours(1);
    RecordingNotifier notifier;
    double started = util::monotonic_seconds();
    run_worker(*s.worker, notifier, *s.logger, options, g_signalled_stop);
    r.add("took", std::to_string(util::monotonic_seconds() - started));
    s.report(r, notifier);
  });
  BOOST_TEST(report.number("took") < 2.0);  // not the hour of the poll interval
  BOOST_TEST(report.number("took") >= 0.12);
  BOOST_TEST(report.has_note("STOPPING=1"));
  BOOST_TEST(report.notes.back() == "STATUS=stopped");
  // Idle waiting is progress: pinged after the first step and again during the 150 ms wait.
  BOOST_TEST(report.count("WATCHDOG=1") >= 2u);
}

BOOST_AUTO_TEST_CASE(the_loop_logs_its_start_its_metrics_and_its_end) {
  auto report = in_child([](const std::filesystem::path& dir, Records& r) {
    Setup s(dir, /*drain=*/true, /*log_file=*/true, util::Millis(2000), /*manual=*/true);
    s.add(2);
    s.worker->add_builtin("job", sleep_then_succeed(s.clock));
    auto options = fast_options();
    options.metrics_interval = util::Millis(0);  // after every step
    RecordingNotifier notifier;
    volatile std::sig_atomic_t stop = 0;
    run_worker(*s.worker, notifier, *s.logger, options, stop);
    s.report(r, notifier);
  });
  auto log = report.value("log");
  auto started = log_lines(log, "worker 'w1' started on default");
  BOOST_REQUIRE(started.size() == 1u);
  BOOST_TEST(started[0].at("msg").get<std::string>() == "worker 'w1' started on default, watchdog ping every 50ms");
  auto metrics = log_lines(log, "metrics: rss ");
  BOOST_REQUIRE(metrics.size() >= 2u);
  const auto& last = metrics.back();
  BOOST_TEST(last.at("msg").get<std::string>().find("2 tasks run (2 succeeded, 0 failed, 0 released), queue depth 0") !=
                 std::string::npos,
             last.dump());
  BOOST_TEST(last.at("tasks_run").get<std::string>() == "2");
  BOOST_TEST(last.at("queue_depth").get<std::string>() == "0");
  BOOST_TEST(std::stoll(last.at("rss_bytes").get<std::string>()) > 0);
  BOOST_TEST(last.at("worker").get<std::string>() == "w1");
  auto first = metrics.front();
  BOOST_TEST(first.at("queue_depth").get<std::string>() == "1");  // after the first of two tasks
  auto stopped = log_lines(log, "worker 'w1' stopped");
  BOOST_REQUIRE(stopped.size() == 1u);
  BOOST_TEST(stopped[0].at("msg").get<std::string>() ==
             "worker 'w1' stopped: 2 tasks run (2 succeeded, 0 failed, 0 released)");
}

BOOST_AUTO_TEST_CASE(no_metrics_line_before_the_metrics_interval) {
  auto report = in_child([](const std::filesystem::path& dir, Records& r) {
    Setup s(dir, /*drain=*/true, /*log_file=*/true, util::Millis(2000), /*manual=*/true);
    s.add(2);
    s.worker->add_builtin("job", sleep_then_succeed(s.clock));
    RecordingNotifier notifier;
    volatile std::sig_atomic_t stop = 0;
    run_worker(*s.worker, notifier, *s.logger, fast_options(), stop);  // metrics every hour
    s.report(r, notifier);
  });
  BOOST_TEST(report.value("succeeded") == "2");
  BOOST_TEST(log_lines(report.value("log"), "metrics:").empty());
}

// After a step longer than several metrics intervals comes one metrics line, not one per loop turn until the
// schedule catches up with the clock (the next line is due an interval after the last one was written).
BOOST_AUTO_TEST_CASE(a_long_step_is_followed_by_one_metrics_line_not_a_burst) {
  auto report = in_child([](const std::filesystem::path& dir, Records& r) {
    Setup s(dir, /*drain=*/true, /*log_file=*/true, util::Millis(2000), /*manual=*/true);
    s.config.queue.lease = std::chrono::hours(1);  // a built-in runs within one step, with no renewal
    queue::NewTask first;
    first.type = "long";
    s.tasks->enqueue(first);
    s.worker->add_builtin("long", [&s](const queue::Task&) {
      s.manual_clock.sleep_for(10 * 60'000);  // a step of ten metrics intervals
      queue::NewTask next;
      next.type = "short";
      next.delay = util::Millis(5'000);  // the loop idles for 5 s (250 turns of 20 ms) before it runs this
      s.tasks->enqueue(next);
      return worker::InProcessResult{true, "ok", {}};
    });
    s.worker->add_builtin("short", [](const queue::Task&) { return worker::InProcessResult{true, "ok", {}}; });
    auto options = fast_options();
    options.metrics_interval = std::chrono::minutes(1);
    RecordingNotifier notifier;
    volatile std::sig_atomic_t stop = 0;
    run_worker(*s.worker, notifier, *s.logger, options, stop);
    s.report(r, notifier);
  });
  BOOST_TEST(report.value("succeeded") == "2");
  BOOST_TEST(log_lines(report.value("log"), "metrics: rss ").size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_busy_database_is_retried_without_pinging_the_watchdog) {
  auto report = in_child([](const std::filesystem::path& dir, Records& r) {
    Setup s(dir, /*drain=*/true, /*log_file=*/true, util::Millis(50));
    s.add(1);
    s.worker->add_builtin("job", sleep_then_succeed(s.clock));
    // Another process holds the write lock for 200 ms, far past the worker's 50 ms busy timeout.
    db::Database holder(db::OpenOptions{s.dir / "oos.db", config::Synchronous::normal, util::Millis(2000)});
    holder.raw().exec("BEGIN IMMEDIATE");
    double released = 0;
    std::thread release([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      released = util::monotonic_seconds();
      holder.raw().exec("COMMIT");
    });
    RecordingNotifier notifier;
    volatile std::sig_atomic_t stop = 0;
    auto options = fast_options();
    options.db_path = s.dir / "oos.db";
    try {
      run_worker(*s.worker, notifier, *s.logger, options, stop);
    } catch (...) {
      release.join();
      throw;
    }
    release.join();
    r.add("released", std::to_string(released));
    s.report(r, notifier);
  });
  BOOST_TEST(report.value("succeeded") == "1");
  auto retries = log_lines(report.value("log"), "");
  std::size_t busy_warnings = 0;
  for (const auto& line : retries)
    if (line.at("msg").get<std::string>().ends_with("; the worker tries again")) ++busy_warnings;
  BOOST_TEST(busy_warnings >= 2u);  // retried every poll interval (20 ms) while locked
  // No ping while no step could complete: a database locked for longer than the watchdog gets the worker
  // restarted.
  double released = report.number("released");
  BOOST_REQUIRE(report.notes.size() == report.note_times.size());
  for (std::size_t i = 0; i < report.notes.size(); ++i)
    if (report.notes[i] == "WATCHDOG=1") BOOST_TEST(report.note_times[i] >= released);
  BOOST_TEST(report.count("WATCHDOG=1") >= 1u);
}

BOOST_AUTO_TEST_CASE(the_loop_keeps_a_heartbeat_row_while_it_runs_and_deletes_it_at_the_end) {
  auto report = in_child([](const std::filesystem::path& dir, Records& r) {
    Setup s(dir, /*drain=*/true, /*log_file=*/false, util::Millis(2000), /*manual=*/true);
    s.add(3);
    std::vector<long long> beats;  // heartbeat_at seen by each task
    s.worker->add_builtin("job", [&](const queue::Task& t) {
      auto rows = queue::SqliteWorkerRegistry(*s.db).list();
      if (rows.size() == 1 && rows[0].name == "w1" && rows[0].pid == ::getpid()) beats.push_back(rows[0].heartbeat_at);
      return sleep_then_succeed(s.clock)(t);
    });
    auto options = fast_options();
    options.heartbeat_interval = util::Millis(50);  // less than a task's 60 ms: a beat between any two tasks
    RecordingNotifier notifier;
    volatile std::sig_atomic_t stop = 0;
    run_worker(*s.worker, notifier, *s.logger, options, stop);
    r.add("beats", std::to_string(beats.size()));
    r.add("distinct", std::to_string(std::set<long long>(beats.begin(), beats.end()).size()));
    r.add("rows_after", std::to_string(s.sql_int("SELECT count(*) FROM workers")));
    s.report(r, notifier);
  });
  BOOST_TEST(report.value("succeeded") == "3");
  BOOST_TEST(report.value("beats") == "3");    // every task saw the row
  BOOST_TEST(report.number("distinct") >= 2);  // and it was written again in between
  BOOST_TEST(report.value("rows_after") == "0");
}

BOOST_AUTO_TEST_CASE(a_release_request_is_served_once_logged_with_the_rss_and_cleared) {
  auto report = in_child([](const std::filesystem::path& dir, Records& r) {
    Setup s(dir, /*drain=*/true, /*log_file=*/true, util::Millis(2000), /*manual=*/true);
    s.add(1);
    s.worker->add_builtin("job", sleep_then_succeed(s.clock));
    volatile std::sig_atomic_t release = 1;  // as the SIGUSR1 handler leaves it
    auto options = fast_options();
    options.release_memory = &release;
    RecordingNotifier notifier;
    volatile std::sig_atomic_t stop = 0;
    run_worker(*s.worker, notifier, *s.logger, options, stop);
    r.add("flag_after", std::to_string(release));
    s.report(r, notifier);
  });
  BOOST_TEST(report.value("succeeded") == "1");
  BOOST_TEST(report.value("flag_after") == "0");
  auto lines = log_lines(report.value("log"), "released memory on request: rss ");
  BOOST_REQUIRE(lines.size() == 1u);
  BOOST_TEST(lines[0].at("level").get<std::string>() == "info");
  BOOST_TEST(lines[0].at("worker").get<std::string>() == "w1");
  BOOST_TEST(std::stoll(lines[0].at("rss_before_bytes").get<std::string>()) > 0);
  BOOST_TEST(std::stoll(lines[0].at("rss_after_bytes").get<std::string>()) > 0);
}

// What a SIGHUP handler leaves: the loop reads the file again between steps, with RELOADING=1 before and READY=1
// after, and gives the worker the handlers of the new file.
BOOST_AUTO_TEST_CASE(a_reload_request_is_announced_served_once_and_cleared) {
  auto report = in_child([](const std::filesystem::path& dir, Records& r) {
    Setup s(dir, /*drain=*/true, /*log_file=*/true, util::Millis(2000), /*manual=*/true);
    s.add(1);
    s.worker->add_builtin("job", sleep_then_succeed(s.clock));
    volatile std::sig_atomic_t reload = 1;  // as the SIGHUP handler leaves it
    int reads = 0;
    auto options = fast_options();
    options.reload = &reload;
    options.config = &s.config;
    options.read_config = [&] {
      ++reads;
      auto next = s.config;
      next.source = "/etc/oos/oos.toml";
      next.handlers["new"].command = {"/bin/new"};
      return next;
    };
    RecordingNotifier notifier;
    volatile std::sig_atomic_t stop = 0;
    run_worker(*s.worker, notifier, *s.logger, options, stop);
    r.add("flag_after", std::to_string(reload));
    r.add("reads", std::to_string(reads));
    r.add("new_handler", s.worker->handlers().contains("new") ? "yes" : "no");
    s.report(r, notifier);
  });
  BOOST_TEST(report.value("succeeded") == "1");
  BOOST_TEST(report.value("flag_after") == "0");
  BOOST_TEST(report.value("reads") == "1");
  BOOST_TEST(report.value("new_handler") == "yes");
  BOOST_REQUIRE(report.notes.size() >= 3u);
  BOOST_TEST(report.notes[0].starts_with("READY=1\n"));
  BOOST_TEST(report.notes[1].starts_with("RELOADING=1\nMONOTONIC_USEC="), report.notes[1]);
  BOOST_TEST(report.notes[2].starts_with("READY=1\nSTATUS="), report.notes[2]);
  auto lines =
      log_lines(report.value("log"), "reloaded the configuration from '/etc/oos/oos.toml': handler 'new' added");
  BOOST_REQUIRE(lines.size() == 1u);
  BOOST_TEST(lines[0].at("level").get<std::string>() == "info");
}

// A file the reload refuses: one error line with the cause (which names the file), and the worker goes on with
// the handlers it had.
BOOST_AUTO_TEST_CASE(a_refused_file_is_one_error_line_and_the_worker_keeps_its_handlers) {
  auto report = in_child([](const std::filesystem::path& dir, Records& r) {
    Setup s(dir, /*drain=*/true, /*log_file=*/true, util::Millis(2000), /*manual=*/true);
    s.add(1);
    s.config.handlers["job"].command = {"/bin/job"};
    s.worker->add_builtin("job", sleep_then_succeed(s.clock));
    volatile std::sig_atomic_t reload = 1;
    auto options = fast_options();
    options.reload = &reload;
    options.config = &s.config;
    options.read_config = []() -> config::Config {
      throw Error(ExitCode::config, "/etc/oos/oos.toml:2: key 'queue.no_such_key': unknown key");
    };
    RecordingNotifier notifier;
    volatile std::sig_atomic_t stop = 0;
    run_worker(*s.worker, notifier, *s.logger, options, stop);
    r.add("flag_after", std::to_string(reload));
    r.add("job_handler", s.worker->handlers().at("job").command.at(0));
    s.report(r, notifier);
  });
  BOOST_TEST(report.value("succeeded") == "1");
  BOOST_TEST(report.value("flag_after") == "0");
  BOOST_TEST(report.value("job_handler") == "/bin/job");
  BOOST_TEST(report.has_note("READY=1\nSTATUS=" + std::string("idle on default; 0 tasks run (0 succeeded, 0 failed)")));
  auto errors = log_lines(report.value("log"),
                          "cannot reload the configuration: /etc/oos/oos.toml:2: key "
                          "'queue.no_such_key': unknown key; the worker keeps the one it runs with");
  BOOST_REQUIRE(errors.size() == 1u);
  BOOST_TEST(errors[0].at("level").get<std::string>() == "error");
  std::size_t error_lines = 0;
  for (const auto& line : log_lines(report.value("log"), ""))
    if (line.at("level").get<std::string>() == "error") ++error_lines;
  BOOST_TEST(error_lines == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
