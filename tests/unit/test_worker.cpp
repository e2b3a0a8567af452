#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "config.hpp"
#include "db/database.hpp"
#include "log.hpp"
#include "queue/queue_store.hpp"
#include "queue/sqlite_queue_store.hpp"
#include "queue/sqlite_task_store.hpp"
#include "support/printers.hpp"
#include "support/temp_dir.hpp"
#include "util/time.hpp"
#include "worker/worker.hpp"

using namespace oos;
using namespace oos::queue;
using oos::policy::FailureKind;
using oos::test::TempDir;
using oos::worker::InProcessResult;
using oos::worker::Step;
using oos::worker::Worker;
using oos::worker::WorkerOptions;

namespace oos::worker {
static std::ostream& operator<<(std::ostream& out, Step step) {
  switch (step) {
    case Step::claimed: return out << "claimed";
    case Step::running: return out << "running";
    case Step::finished: return out << "finished";
    case Step::recording: return out << "recording";
    case Step::idle: return out << "idle";
    case Step::done: return out << "done";
  }
  return out << "?";
}
}  // namespace oos::worker

namespace {

// A real state database in a temporary directory and a worker on it, running real handler processes. The store
// and the worker run on `clock`: the system clock, unless a test moves time by hand (then only with built-in
// handlers: a real process's timeout would never come on a clock that does not move).
struct WorkerFixture {
  explicit WorkerFixture(bool manual = false)
      : clock(manual ? static_cast<const util::Clock&>(manual_clock) : system_clock) {}

  TempDir dir;
  config::Config config;
  util::SystemClock system_clock;
  util::ManualClock manual_clock{1'700'000'000'000};
  const util::Clock& clock;
  std::unique_ptr<log::Logger> logger = log::Logger::discard();
  std::unique_ptr<db::Database> db =
      std::make_unique<db::Database>(db::OpenOptions{dir / "oos.db", config::Synchronous::normal, util::Millis(2000)});
  SqliteTaskStore tasks{*db, config, clock, *logger};
  SqliteQueueStore queues{*db, config, *logger};
  std::map<std::string, std::string> secrets;
  std::unique_ptr<Worker> worker;

  static WorkerOptions options(bool drain = false) {
    WorkerOptions o;
    o.name = "w1";
    o.queues = {"default"};
    o.drain = drain;
    return o;
  }

  worker::HandlerInputs inputs() {
    worker::HandlerInputs inputs;
    inputs.env_names = {"PATH"};
    inputs.env = [](const std::string& name) -> std::optional<std::string> {
      if (name == "PATH") return "/usr/bin:/bin";
      return std::nullopt;
    };
    inputs.secrets = [this](const std::string& name) -> std::optional<std::string> {
      auto it = secrets.find(name);
      return it == secrets.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    return inputs;
  }

  // A worker on `on` (another connection to the same file) or on the fixture's own connection.
  Worker& make_worker(WorkerOptions o = options(), db::Database* on = nullptr) {
    worker = std::make_unique<Worker>(on ? *on : *db, config, clock, *logger, std::move(o), inputs());
    return *worker;
  }

  // [handlers.TYPE] running `script` with /bin/sh.
  config::HandlerConfig& shell(const std::string& type, const std::string& script,
                               util::Millis timeout = std::chrono::minutes(10)) {
    auto& h = config.handlers[type];
    h.command = {"/bin/sh", "-c", script};
    h.timeout = timeout;
    return h;
  }

  TaskId add(const std::string& type = "job", const std::string& payload = "{}", util::Millis delay = util::Millis(0),
             const std::string& queue_name = "default") {
    NewTask t;
    t.queue = queue_name;
    t.type = type;
    t.payload = payload;
    t.delay = delay;
    return tasks.enqueue(t).id;
  }

  Task task(TaskId id) {
    auto t = tasks.find(id);
    BOOST_REQUIRE(t.has_value());
    return *t;
  }
  long long sql_int(const std::string& sql) { return db->raw().execAndGet(sql).getInt64(); }
  std::string sql_text(const std::string& sql) { return db->raw().execAndGet(sql).getString(); }

  // Steps while the worker reports `running` (at most `seconds`); returns the steps, the last one being the
  // first that was not `running` (or `running` when time ran out). `each` runs after every running step.
  std::vector<Step> step_while_running(double seconds = 5.0, const std::function<void()>& each = {}) {
    std::vector<Step> steps;
    double deadline = util::monotonic_seconds() + seconds;
    do {
      steps.push_back(worker->step());
      if (steps.back() != Step::running) break;
      if (each) each();
    } while (util::monotonic_seconds() < deadline);
    return steps;
  }

  // Steps until `ready()` holds (at most `seconds`), as long as the worker is running a handler.
  bool step_until(const std::function<bool()>& ready, double seconds = 5.0) {
    double deadline = util::monotonic_seconds() + seconds;
    while (!ready()) {
      if (util::monotonic_seconds() >= deadline) return false;
      if (worker->step() != Step::running) return ready();
    }
    return true;
  }
};

struct ManualClockFixture : WorkerFixture {
  ManualClockFixture() : WorkerFixture(true) {}
};

worker::InProcessHandler returning(std::string result) {
  return [result](const Task&) { return InProcessResult{true, result, {}}; };
}

// The text of `path`, or "" while it does not exist.
std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Whether `pid` is a live process (not gone, not a zombie waiting for a reaper).
bool alive(pid_t pid) {
  if (::kill(pid, 0) != 0) return errno != ESRCH;
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] != 'Z';
}

// Whether `pid` is gone within a second (a signal is delivered asynchronously: a killed process may still
// be on its way out when the one that killed it returns).
bool ends_soon(pid_t pid) {
  double deadline = util::monotonic_seconds() + 1.0;
  while (alive(pid)) {
    if (util::monotonic_seconds() >= deadline) return false;
    ::usleep(5'000);
  }
  return true;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(worker)

// ---- built-in (in-process) handlers -------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(a_builtin_handler_runs_in_process_and_its_result_is_stored, WorkerFixture) {
  auto id = add("job", R"({"q":"oos"})");
  auto& w = make_worker();
  std::vector<Task> seen;
  w.add_builtin("job", [&](const Task& t) {
    seen.push_back(t);
    return InProcessResult{true, R"(["a","b"])", {}};
  });
  BOOST_TEST(w.step() == Step::claimed);  // claimed in one step, run and recorded in the next
  BOOST_TEST(w.step() == Step::finished);
  BOOST_REQUIRE(seen.size() == 1u);
  BOOST_TEST(seen[0].id == id);
  BOOST_TEST(seen[0].payload == R"({"q":"oos"})");
  BOOST_TEST(seen[0].attempts == 1);
  auto t = task(id);
  BOOST_TEST(t.status == TaskStatus::succeeded);
  BOOST_TEST(t.result.value_or("") == R"(["a","b"])");
  auto history = tasks.attempts(id);
  BOOST_REQUIRE(history.size() == 1u);
  BOOST_TEST(history[0].outcome == "succeeded");
  BOOST_TEST(history[0].worker.value_or("") == "w1");
  BOOST_TEST(w.counters().started == 1);
  BOOST_TEST(w.counters().succeeded == 1);
  BOOST_TEST(w.counters().failed == 0);
  BOOST_TEST(w.step() == Step::idle);
}

BOOST_FIXTURE_TEST_CASE(a_builtin_takes_precedence_over_a_configured_handler, WorkerFixture) {
  shell("job", "echo from-the-shell; exit 1");
  auto id = add("job");
  auto& w = make_worker();
  w.add_builtin("job", returning("in-process"));
  BOOST_TEST(w.step() == Step::claimed);
  BOOST_TEST(w.step() == Step::finished);
  BOOST_TEST(task(id).status == TaskStatus::succeeded);
  BOOST_TEST(task(id).result.value_or("") == "in-process");
}

BOOST_FIXTURE_TEST_CASE(a_builtin_failure_follows_its_failure_kind, WorkerFixture) {
  struct Case {
    FailureKind kind;
    TaskStatus status;
    std::string outcome;
  };
  const std::vector<Case> cases{
      {FailureKind::retryable, TaskStatus::pending, "failed"},
      {FailureKind::temporary, TaskStatus::pending, "temporary"},
      {FailureKind::permanent, TaskStatus::dead, "permanent"},
  };
  auto& w = make_worker();
  std::int64_t failed = 0;
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("outcome " << c.outcome) {
      auto type = "kind_" + c.outcome;
      w.add_builtin(type, [&c](const Task&) {
        return InProcessResult{false, "", {c.kind, "provider said no (" + c.outcome + ")", std::nullopt}};
      });
      auto id = add(type);
      BOOST_TEST(w.step() == Step::claimed);
      BOOST_TEST(w.step() == Step::finished);
      auto t = task(id);
      BOOST_TEST(t.status == c.status);
      BOOST_TEST(t.attempts == 1);
      BOOST_TEST(t.last_error.value_or("") == "provider said no (" + c.outcome + ")");
      if (c.status == TaskStatus::pending) BOOST_TEST(t.run_at > clock.now());  // after the backoff
      auto history = tasks.attempts(id);
      BOOST_REQUIRE(history.size() == 1u);
      BOOST_TEST(history[0].outcome == c.outcome);
      BOOST_TEST(w.counters().failed == ++failed);
      BOOST_TEST(w.counters().succeeded == 0);
    }
  }
}

BOOST_FIXTURE_TEST_CASE(a_builtin_that_throws_is_a_retryable_failure_naming_the_type, WorkerFixture) {
  auto id = add("search");
  auto& w = make_worker();
  w.add_builtin("search", [](const Task&) -> InProcessResult { throw std::runtime_error("quota exhausted"); });
  BOOST_TEST(w.step() == Step::claimed);
  BOOST_TEST(w.step() == Step::finished);
  auto t = task(id);
  BOOST_TEST(t.status == TaskStatus::pending);
  BOOST_TEST(t.last_error.value_or("") == "built-in handler 'search' failed: quota exhausted");
  BOOST_TEST(tasks.attempts(id).at(0).outcome == "failed");
  BOOST_TEST(w.counters().failed == 1);
  BOOST_TEST(w.step() == Step::idle);  // the worker goes on
}

BOOST_FIXTURE_TEST_CASE(a_task_without_a_handler_is_dead_in_one_step, WorkerFixture) {
  auto id = add("x");
  auto& w = make_worker();
  w.add_builtin("y", returning(""));
  BOOST_TEST(w.step() == Step::finished);
  auto t = task(id);
  BOOST_TEST(t.status == TaskStatus::dead);
  BOOST_TEST(t.last_error.value_or("") == "no handler for type 'x'");
  BOOST_TEST(t.attempts == 1);
  BOOST_TEST(w.counters().failed == 1);
}

// ---- when the worker has nothing to do, or is done -----------------------------------------------------

BOOST_FIXTURE_TEST_CASE(an_empty_queue_is_idle_and_drained_is_done, WorkerFixture) {
  add("job", "{}", util::Millis(0), "elsewhere");  // not one of its queues
  BOOST_TEST(make_worker().step() == Step::idle);
  BOOST_TEST(worker->step() == Step::idle);
  BOOST_TEST(make_worker(options(true)).step() == Step::done);
  BOOST_TEST(worker->counters().started == 0);
}

BOOST_FIXTURE_TEST_CASE(drain_waits_for_a_task_due_within_the_horizon_only, WorkerFixture) {
  struct Case {
    util::Millis delay;
    Step expected;
  };
  const std::vector<Case> cases{{util::Millis(5'000), Step::idle}, {util::Millis(60'000), Step::done}};
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("due in " << c.delay.count() << " ms") {
      db->raw().exec("DELETE FROM tasks");
      auto id = add("job", "{}", c.delay);
      auto& w = make_worker(options(true));
      w.add_builtin("job", returning(""));
      BOOST_TEST(w.step() == c.expected);
      BOOST_TEST(task(id).status == TaskStatus::pending);
    }
  }
}

BOOST_FIXTURE_TEST_CASE(drain_ignores_a_pending_task_of_a_paused_queue, WorkerFixture) {
  auto id = add("job");
  queues.set_paused("default", true, clock.now());
  BOOST_TEST(make_worker().step() == Step::idle);
  BOOST_TEST(make_worker(options(true)).step() == Step::done);
  BOOST_TEST(task(id).status == TaskStatus::pending);
}

BOOST_FIXTURE_TEST_CASE(drain_runs_a_retry_that_comes_due_within_the_horizon, ManualClockFixture) {
  config.queue.backoff_seconds = {5};
  config.queue.backoff_jitter = 0;
  auto id = add("flaky");
  auto& w = make_worker(options(true));
  int runs = 0;
  w.add_builtin("flaky", [&](const Task&) {
    return ++runs == 1 ? InProcessResult{false, "", {FailureKind::retryable, "first try fails", std::nullopt}}
                       : InProcessResult{true, "second try", {}};
  });
  BOOST_TEST(w.step() == Step::claimed);
  BOOST_TEST(w.step() == Step::finished);
  BOOST_TEST(task(id).status == TaskStatus::pending);
  BOOST_TEST(w.step() == Step::idle);  // due in 5 s: --drain waits for it
  manual_clock.advance(4'999);
  BOOST_TEST(w.step() == Step::idle);
  manual_clock.advance(1);
  BOOST_TEST(w.step() == Step::claimed);
  BOOST_TEST(w.step() == Step::finished);
  BOOST_TEST(task(id).status == TaskStatus::succeeded);
  BOOST_TEST(w.step() == Step::done);
  BOOST_TEST(runs == 2);
}

BOOST_FIXTURE_TEST_CASE(max_tasks_ends_the_worker_after_that_many_tasks, WorkerFixture) {
  std::vector<TaskId> ids{add(), add(), add()};
  auto o = options();
  o.max_tasks = 2;
  auto& w = make_worker(o);
  w.add_builtin("job", returning("ok"));
  BOOST_TEST(w.step() == Step::claimed);
  BOOST_TEST(w.step() == Step::finished);  // the second task is claimed in the same transaction
  BOOST_TEST(w.step() == Step::finished);  // the limit reached: no third claim
  BOOST_TEST(w.step() == Step::done);
  BOOST_TEST(w.counters().started == 2);
  BOOST_TEST(task(ids[2]).status == TaskStatus::pending);
}

BOOST_FIXTURE_TEST_CASE(a_stop_request_with_nothing_running_is_done_at_once, WorkerFixture) {
  auto id = add();
  auto& w = make_worker();
  w.add_builtin("job", returning(""));
  BOOST_TEST(!w.stopping());
  w.request_stop();
  BOOST_TEST(w.stopping());
  BOOST_TEST(w.step() == Step::done);
  BOOST_TEST(w.status() == "stopping");
  BOOST_TEST(task(id).status == TaskStatus::pending);
  BOOST_TEST(task(id).attempts == 0);
  BOOST_TEST(w.counters().started == 0);
}

// ---- handlers as child processes ----------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(a_shell_handler_is_claimed_then_running_then_finished, WorkerFixture) {
  shell("job", R"(sleep 0.15; cat; printf ' id=%s type=%s attempt=%s/%s' "$OOS_TASK_ID" "$OOS_TASK_TYPE" )"
               R"("$OOS_ATTEMPT" "$OOS_MAX_ATTEMPTS")");
  auto id = add("job", R"({"n":1})");
  auto& w = make_worker();
  BOOST_TEST(w.status().starts_with("idle on default"));
  BOOST_TEST(w.step() == Step::claimed);
  BOOST_TEST(w.counters().started == 1);
  BOOST_TEST(w.status().find("running task " + std::to_string(id)) != std::string::npos, w.status());
  BOOST_TEST(task(id).status == TaskStatus::running);
  BOOST_TEST(task(id).lease_owner.value_or("") == "w1");
  auto steps = step_while_running();
  BOOST_REQUIRE(steps.size() >= 2u);  // the handler sleeps 150 ms, a step waits at most about 100 ms
  BOOST_TEST(steps.back() == Step::finished);
  steps.pop_back();
  for (auto s : steps) BOOST_TEST(s == Step::running);
  auto t = task(id);
  BOOST_TEST(t.status == TaskStatus::succeeded);
  BOOST_TEST(t.result.value_or("") ==
             R"({"n":1} id=)" + std::to_string(id) + " type=job attempt=1/" + std::to_string(t.max_attempts));
  BOOST_TEST(w.counters().succeeded == 1);
  BOOST_TEST(w.counters().failed == 0);
  BOOST_TEST(w.status() == "idle on default; 1 tasks run (1 succeeded, 0 failed)");
  BOOST_TEST(w.step() == Step::idle);
}

BOOST_FIXTURE_TEST_CASE(idle_status_names_every_queue, WorkerFixture) {
  auto o = options();
  o.queues = {"default", "mail"};
  BOOST_TEST(make_worker(o).status() == "idle on default, mail; 0 tasks run (0 succeeded, 0 failed)");
}

BOOST_FIXTURE_TEST_CASE(handler_exit_codes_decide_the_outcome, WorkerFixture) {
  struct Case {
    std::string script;
    TaskStatus status;
    std::string outcome;
    std::string error;
  };
  const std::vector<Case> cases{
      {"echo boom >&2; exit 3", TaskStatus::pending, "failed", "exit 3: boom"},
      {"echo busy >&2; exit 75", TaskStatus::pending, "temporary", "exit 75: busy"},
      {"echo bad input >&2; exit 65", TaskStatus::dead, "permanent", "exit 65: bad input"},
      {"kill -9 $$", TaskStatus::pending, "failed", "killed by signal 9 (Killed)"},
  };
  config.queue.backoff_seconds = {60};  // a retried task must not come back before the next case's task
  auto& w = make_worker();
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.script) {
      shell("job", c.script).permanent_exit_codes = {65};
      auto id = add("job");
      BOOST_TEST(w.step() == Step::claimed);
      BOOST_TEST(step_while_running().back() == Step::finished);
      auto t = task(id);
      BOOST_TEST(t.status == c.status);
      BOOST_TEST(t.last_error.value_or("") == c.error);
      BOOST_TEST(tasks.attempts(id).at(0).outcome == c.outcome);
    }
  }
  BOOST_TEST(w.counters().failed == static_cast<std::int64_t>(cases.size()));
}

BOOST_FIXTURE_TEST_CASE(secrets_reach_the_handler_but_not_its_stored_output, WorkerFixture) {
  secrets["API_TOKEN"] = "tok-5ecret-771";
  shell("ok", R"(echo "using $API_TOKEN")").env_keys = {"API_TOKEN"};
  shell("fails", R"(echo "rejected $API_TOKEN" >&2; exit 1)").env_keys = {"API_TOKEN"};
  auto ok = add("ok");
  auto& w = make_worker();
  BOOST_TEST(w.step() == Step::claimed);
  BOOST_TEST(step_while_running().back() == Step::finished);
  auto fails = add("fails");
  BOOST_TEST(w.step() == Step::claimed);
  BOOST_TEST(step_while_running().back() == Step::finished);
  auto result = task(ok).result.value_or("");
  auto error = task(fails).last_error.value_or("");
  BOOST_TEST(task(ok).status == TaskStatus::succeeded);
  BOOST_TEST(result.starts_with("using "), result);
  BOOST_TEST(result != "using \n");  // it ran with the variable set (and something stands in for it)
  BOOST_TEST(result.find("tok-5ecret-771") == std::string::npos, result);
  BOOST_TEST(error.starts_with("exit 1: rejected "), error);
  BOOST_TEST(error != "exit 1: rejected");
  BOOST_TEST(error.find("tok-5ecret-771") == std::string::npos, error);
}

BOOST_FIXTURE_TEST_CASE(a_missing_secret_fails_the_run_without_starting_the_handler, WorkerFixture) {
  shell("job", "touch '" + (dir / "started").string() + "'").env_keys = {"API_TOKEN"};
  auto id = add();
  auto& w = make_worker();
  BOOST_TEST(w.step() == Step::finished);
  BOOST_TEST(task(id).status == TaskStatus::pending);
  BOOST_TEST(task(id).last_error.value_or("") == "handler 'job': secret 'API_TOKEN' named in env_keys is not set");
  BOOST_TEST(!std::filesystem::exists(dir / "started"));
}

BOOST_FIXTURE_TEST_CASE(a_handler_that_cannot_start_is_a_retryable_failure, WorkerFixture) {
  config.handlers["job"].command = {(dir / "no-such-program").string()};
  auto id = add();
  auto& w = make_worker();
  BOOST_TEST(w.step() == Step::finished);
  auto t = task(id);
  BOOST_TEST(t.status == TaskStatus::pending);
  auto error = t.last_error.value_or("");
  BOOST_TEST(error.starts_with("handler 'job': cannot start " + (dir / "no-such-program").string()), error);
  BOOST_TEST(w.counters().failed == 1);
}

// ---- lease, timeout and stop ---------------------------------------------------------------------------

// The handler of the report: it traps SIGTERM and exits 0. A timeout is a failed attempt whatever the exit code
// after the signal (worker_steps covers the decisions without processes; this is the real thing).
BOOST_FIXTURE_TEST_CASE(a_handler_that_traps_the_timeout_signal_and_exits_0_is_retried, WorkerFixture) {
  config.queue.backoff_jitter = 0;
  shell("job", R"(trap "exit 0" TERM; echo partial; sleep 30 & wait)", util::Millis(150));
  auto id = add();
  auto& w = make_worker();
  double started = util::monotonic_seconds();
  BOOST_TEST(w.step() == Step::claimed);
  auto steps = step_while_running(5.0);
  double took = util::monotonic_seconds() - started;
  BOOST_TEST(steps.back() == Step::finished);
  BOOST_TEST(took >= 0.15);
  BOOST_TEST(took < 3.0);  // SIGTERM ended it; no SIGKILL needed
  auto t = task(id);
  BOOST_TEST(t.status == TaskStatus::pending);
  BOOST_TEST(t.attempts == 1);
  BOOST_TEST(t.last_error.value_or("").starts_with("timed out after 150ms"), t.last_error.value_or("(none)"));
  BOOST_TEST(!t.result.has_value());
  BOOST_TEST(t.run_at > clock.now());
  BOOST_TEST(w.counters().failed == 1);
  BOOST_TEST(w.counters().succeeded == 0);
}

BOOST_FIXTURE_TEST_CASE(a_timeout_stops_the_handlers_whole_process_group, WorkerFixture) {
  auto pid_file = dir / "grandchild.pid";
  shell("job", "sleep 30 & echo $! > '" + pid_file.string() + "'; wait", util::Millis(150));
  add();
  auto& w = make_worker();
  BOOST_TEST(w.step() == Step::claimed);
  BOOST_REQUIRE(step_until([&] { return read_file(pid_file).ends_with("\n"); }));
  pid_t grandchild = std::stoi(read_file(pid_file));
  BOOST_TEST(step_while_running(5.0).back() == Step::finished);
  BOOST_TEST(ends_soon(grandchild));
}

// The reliability issue: a handler that leaves a daemon (outside its process group) holding its stdout and
// stderr. The run ends with the handler, its result is recorded, and the daemon is killed.
BOOST_FIXTURE_TEST_CASE(a_daemon_holding_the_handlers_output_does_not_hold_the_task, WorkerFixture) {
  auto pid_file = dir / "daemon.pid";
  auto pid_path = pid_file.string();
  shell("job",
        "setsid sh -c 'echo $$ > " + pid_path + "; exec sleep 5' & while [ ! -s " + pid_path +
            " ]; do sleep 0.01; done; echo '{\"ok\":1}'; exit 0",
        util::Millis(3000));
  auto id = add();
  auto& w = make_worker();
  double started = util::monotonic_seconds();
  BOOST_TEST(w.step() == Step::claimed);
  BOOST_TEST(step_while_running(8.0).back() == Step::finished);
  BOOST_TEST(util::monotonic_seconds() - started < 1.0);
  auto t = task(id);
  BOOST_TEST(t.status == TaskStatus::succeeded);
  BOOST_TEST(t.result.value_or("") == "{\"ok\":1}\n");
  BOOST_TEST(ends_soon(std::stoi(read_file(pid_file))));
}

// With the timeout passing while an escaped descendant holds the output, the run ends at the timeout (the
// leader dies of SIGTERM), not when the descendant would.
BOOST_FIXTURE_TEST_CASE(a_timeout_ends_the_run_whatever_holds_the_handlers_output, WorkerFixture) {
  auto pid_path = (dir / "daemon.pid").string();
  shell("job",
        "setsid sh -c 'echo $$ > " + pid_path + "; exec sleep 5' & while [ ! -s " + pid_path +
            " ]; do sleep 0.01; done; exec sleep 30",
        util::Millis(300));
  auto id = add();
  auto& w = make_worker();
  double started = util::monotonic_seconds();
  BOOST_TEST(w.step() == Step::claimed);
  BOOST_TEST(step_while_running(8.0).back() == Step::finished);
  BOOST_TEST(util::monotonic_seconds() - started < 1.5);
  BOOST_TEST(task(id).last_error.value_or("").starts_with("timed out after 300ms"));
}

BOOST_FIXTURE_TEST_CASE(a_handler_killed_by_the_service_managers_stop_is_released, WorkerFixture) {
  // systemd's stop sends SIGTERM to every process of the unit, the handler's group included.
  auto pid_file = dir / "handler.pid";
  shell("job", "echo $$ > '" + pid_file.string() + "'; exec sleep 30");
  auto id = add();
  auto& w = make_worker();
  BOOST_TEST(w.step() == Step::claimed);
  BOOST_REQUIRE(step_until([&] { return read_file(pid_file).ends_with("\n"); }));
  w.request_stop();
  BOOST_REQUIRE(::kill(-std::stoi(read_file(pid_file)), SIGTERM) == 0);
  BOOST_TEST(step_while_running(5.0).back() == Step::finished);
  auto t = task(id);
  BOOST_TEST(t.status == TaskStatus::pending);
  BOOST_TEST(t.attempts == 0);
  BOOST_TEST(w.counters().released == 1);
  BOOST_TEST(w.counters().failed == 0);
}

BOOST_FIXTURE_TEST_CASE(destroying_the_worker_kills_a_running_handler, WorkerFixture) {
  auto pid_file = dir / "handler.pid";
  shell("job", "echo $$ > '" + pid_file.string() + "'; exec sleep 30");
  auto id = add();
  make_worker();
  BOOST_TEST(worker->step() == Step::claimed);
  BOOST_REQUIRE(step_until([&] { return read_file(pid_file).ends_with("\n"); }));
  pid_t pid = std::stoi(read_file(pid_file));
  worker.reset();
  BOOST_TEST(ends_soon(pid));
  BOOST_TEST(task(id).status == TaskStatus::running);  // its lease expires and another worker reclaims it
}

BOOST_FIXTURE_TEST_CASE(a_task_of_a_crashed_worker_is_reclaimed_and_run_again, ManualClockFixture) {
  config.queue.lease = util::Millis(600);  // the worker looks for expired leases every 200 ms
  config.queue.backoff_seconds = {0};
  auto id = add();
  auto lost = tasks.claim(std::vector<std::string>{"default"}, "crashed-worker");
  BOOST_REQUIRE(lost);
  auto& w = make_worker();
  w.add_builtin("job", returning("second run"));
  BOOST_TEST(w.step() == Step::idle);  // within its lease the task is someone else's
  manual_clock.advance(601);
  Step step = Step::idle;
  double deadline = util::monotonic_seconds() + 2.0;
  while ((step = w.step()) == Step::idle && util::monotonic_seconds() < deadline) ::usleep(20'000);
  BOOST_TEST(step == Step::claimed);
  BOOST_TEST(w.step() == Step::finished);
  auto t = task(id);
  BOOST_TEST(t.status == TaskStatus::succeeded);
  BOOST_TEST(t.attempts == 2);
  auto history = tasks.attempts(id);
  BOOST_REQUIRE(history.size() == 2u);
  BOOST_TEST(history[0].error.value_or("") == "lease expired (worker lost)");
  BOOST_TEST(history[0].worker.value_or("") == "crashed-worker");
  BOOST_TEST(history[1].worker.value_or("") == "w1");
}

BOOST_FIXTURE_TEST_CASE(a_step_that_finds_the_database_locked_can_be_retried, WorkerFixture) {
  shell("job", "echo result");
  auto id = add();
  db::Database quick(db::OpenOptions{dir / "oos.db", config::Synchronous::normal, util::Millis(50)});
  auto& w = make_worker(options(), &quick);
  BOOST_TEST(w.step() == Step::claimed);
  db->raw().exec("BEGIN IMMEDIATE");  // another process holds the write lock while the handler ends
  bool threw = false;
  double deadline = util::monotonic_seconds() + 5.0;
  while (!threw && util::monotonic_seconds() < deadline) {
    try {
      BOOST_TEST(w.step() == Step::running);
    } catch (const std::exception& e) {
      threw = true;
      BOOST_TEST_MESSAGE("step threw: " << e.what());
    }
  }
  BOOST_TEST(threw);
  db->raw().exec("COMMIT");
  BOOST_TEST(w.step() == Step::finished);  // the outcome was kept and is written now
  auto t = task(id);
  BOOST_TEST(t.status == TaskStatus::succeeded);
  BOOST_TEST(t.result.value_or("") == "result\n");
  BOOST_TEST(w.counters().succeeded == 1);
  BOOST_TEST(w.step() == Step::idle);
}

BOOST_AUTO_TEST_SUITE_END()
