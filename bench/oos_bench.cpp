// The liboos side of `make bench`: the same workloads as reference.c, through the queue API the tools
// use, on a real state database with the default settings (WAL, synchronous=FULL).
//
//   oos-bench enqueue|enqueue-batch|claim STATE_DIR N     prints "MODE OPS_PER_SECOND"
//   oos-bench fill STATE_DIR PENDING DONE                  a database for the start-up benchmark
//   oos-bench status STATE_DIR PENDING RUNS                QueueStore::status against the counting statements of
//                                                          schema 4's status on PENDING tasks: prints
//                                                          "status FILL_S STATUS_MS BEFORE_MS"
//   oos-bench cold-start RUNS -- ARGV...                   prints "cold-start MEDIAN_MS P90_MS MAX_MS"
//   oos-bench worker STATE_DIR NAME                        the worker's own loop with an in-process no-op
//                                                          handler, until drained: prints "worker NAME TASKS";
//                                                          on PostgreSQL when $OOS_DATABASE_URL is set
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "db/database.hpp"
#include "log.hpp"
#include "pg/pg_backend.hpp"
#include "queue/queue_store.hpp"
#include "queue/sqlite_queue_store.hpp"
#include "queue/sqlite_task_store.hpp"
#include "store/sqlite_backend.hpp"
#include "util/time.hpp"
#include "worker/runner.hpp"
#include "worker/worker.hpp"

extern char** environ;

namespace {

using namespace oos;

std::vector<queue::NewTask> make_tasks(long first, long count) {
  std::vector<queue::NewTask> tasks(static_cast<std::size_t>(count));
  for (long i = 0; i < count; ++i) {
    auto& t = tasks[static_cast<std::size_t>(i)];
    t.type = "bench";
    t.payload = "{\"n\":" + std::to_string(first + i) + "}";
  }
  return tasks;
}

int queue_bench(const std::string& mode, const std::string& state_dir, long n) {
  config::Config config;
  util::SystemClock clock;
  auto logger = log::Logger::discard();
  db::Database db({std::filesystem::path(state_dir) / "oos.db", config.db.synchronous, config.db.busy_timeout});
  queue::SqliteTaskStore store(db, config, clock, *logger);
  double start = 0;
  if (mode == "enqueue") {
    auto tasks = make_tasks(0, n);
    start = util::monotonic_seconds();
    for (const auto& t : tasks) store.enqueue(t);
  } else if (mode == "enqueue-batch") {
    auto tasks = make_tasks(0, n);
    start = util::monotonic_seconds();
    for (long i = 0; i < n; i += 100)
      store.enqueue_batch(
          std::span(tasks).subspan(static_cast<std::size_t>(i), static_cast<std::size_t>(std::min(100L, n - i))));
  } else if (mode == "claim") {
    auto tasks = make_tasks(0, n);
    for (long i = 0; i < n; i += 1000)
      store.enqueue_batch(
          std::span(tasks).subspan(static_cast<std::size_t>(i), static_cast<std::size_t>(std::min(1000L, n - i))));
    const std::array<std::string, 1> queues{"default"};
    start = util::monotonic_seconds();
    for (long i = 0; i < n; ++i) {
      auto claimed = store.claim(queues, "bench");
      if (!claimed) {
        std::fprintf(stderr, "oos-bench: queue empty after %ld claims\n", i);
        return 1;
      }
      if (store.complete(claimed->lease, "") != queue::Fence::applied) {
        std::fprintf(stderr, "oos-bench: completion of task %lld rejected\n", static_cast<long long>(claimed->task.id));
        return 1;
      }
    }
  } else {
    std::fprintf(stderr, "oos-bench: unknown mode '%s'\n", mode.c_str());
    return 64;
  }
  double elapsed = util::monotonic_seconds() - start;
  std::printf("%s %.1f\n", mode.c_str(), static_cast<double>(n) / elapsed);
  return 0;
}

// A realistic state database: DONE tasks that ran and succeeded, then PENDING tasks waiting.
int fill(const std::string& state_dir, long pending, long done) {
  config::Config config;
  util::SystemClock clock;
  auto logger = log::Logger::discard();
  db::Database db({std::filesystem::path(state_dir) / "oos.db", config::Synchronous::normal, config.db.busy_timeout});
  queue::SqliteTaskStore store(db, config, clock, *logger);
  const std::array<std::string, 1> queues{"default"};
  for (long i = 0; i < done; i += 1000) {
    auto tasks = make_tasks(i, std::min(1000L, done - i));
    store.enqueue_batch(tasks);
    while (auto claimed = store.claim(queues, "fill")) store.complete(claimed->lease, "ok");
  }
  for (long i = 0; i < pending; i += 1000) store.enqueue_batch(make_tasks(done + i, std::min(1000L, pending - i)));
  return 0;
}

double median_ms(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// PENDING runnable tasks written in one transaction by one INSERT ... SELECT (the schema's triggers count them as
// the store's inserts do), then the median of RUNS calls of QueueStore::status (what `oos-queue status` and
// `stats`, the metrics, oos-health and oos-scale read) against the median of the statements that counted the
// queue's tasks in status before schema 5, verbatim, over the same table (their indexes are still there).
int status_bench(const std::string& state_dir, long pending, long runs) {
  config::Config config;
  util::SystemClock clock;
  auto logger = log::Logger::discard();
  db::Database db({std::filesystem::path(state_dir) / "oos.db", config::Synchronous::normal, config.db.busy_timeout});
  double start = util::monotonic_seconds();
  {
    db::WriteTransaction tx(db);
    SQLite::Statement fill(db.raw(),
                           "WITH RECURSIVE i(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM i WHERE k < ?1) "
                           "INSERT INTO tasks (queue, type, payload, status, run_at, max_attempts, created_at, "
                           "updated_at) SELECT 'default', 'bench', '{\"n\":' || k || '}', 'pending', ?2, 10, ?2, ?2 "
                           "FROM i");
    fill.bind(1, static_cast<std::int64_t>(pending));
    fill.bind(2, static_cast<std::int64_t>(clock.now()));
    fill.exec();
    db.raw().exec("INSERT OR IGNORE INTO queues (name, updated_at) VALUES ('default', 0)");
    tx.commit();
  }
  double fill_s = util::monotonic_seconds() - start;
  queue::SqliteQueueStore view(db, config, *logger);
  // Schema 4's status: one pass over the claim index for the pending figures, then the running count.
  SQLite::Statement before_pending(
      db.raw(),
      "SELECT count(*), coalesce(sum(run_at <= ?2), 0), min(CASE WHEN run_at <= ?2 THEN run_at END), "
      "coalesce(sum(attempts > 0), 0) FROM tasks INDEXED BY tasks_claim WHERE status = 'pending' AND queue = ?1");
  SQLite::Statement before_running(
      db.raw(), "SELECT count(*) FROM tasks INDEXED BY tasks_running WHERE status = 'running' AND queue = ?");
  std::vector<double> status_ms;
  std::vector<double> before_ms;
  for (long i = 0; i < runs; ++i) {
    start = util::monotonic_seconds();
    auto status = view.status(clock.now());
    status_ms.push_back((util::monotonic_seconds() - start) * 1000.0);
    auto now = static_cast<std::int64_t>(clock.now());
    start = util::monotonic_seconds();
    before_pending.bind(1, "default");
    before_pending.bind(2, now);
    before_pending.executeStep();
    auto counted = before_pending.getColumn(0).getInt64();
    auto runnable = before_pending.getColumn(1).getInt64();
    before_pending.reset();
    before_running.bind(1, "default");
    before_running.executeStep();
    auto running = before_running.getColumn(0).getInt64();
    before_running.reset();
    before_ms.push_back((util::monotonic_seconds() - start) * 1000.0);
    if (status.size() != 1 || status[0].counts.pending != pending || status[0].counts.runnable != pending ||
        counted != pending || runnable != pending || running != 0) {
      std::fprintf(stderr, "oos-bench: status or schema 4's counts do not show %ld runnable tasks\n", pending);
      return 1;
    }
  }
  std::printf("status %.2f %.3f %.3f\n", fill_s, median_ms(status_ms), median_ms(before_ms));
  return 0;
}

// Wall time of whole process runs (spawn to exit), to measure a tool's start-up.
int cold_start(long runs, std::vector<std::string> argv) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  std::vector<double> ms;
  for (long i = 0; i < runs; ++i) {
    double start = util::monotonic_seconds();
    pid_t pid = 0;
    if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ) != 0) {
      std::fprintf(stderr, "oos-bench: cannot run %s\n", args[0]);
      return 1;
    }
    int status = 0;
    waitpid(pid, &status, 0);
    ms.push_back((util::monotonic_seconds() - start) * 1000.0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "oos-bench: %s failed\n", args[0]);
      return 1;
    }
  }
  posix_spawn_file_actions_destroy(&actions);
  std::sort(ms.begin(), ms.end());
  std::printf("cold-start %.2f %.2f %.2f\n", ms[ms.size() / 2], ms[ms.size() * 9 / 10], ms.back());
  return 0;
}

// Notifications go nowhere: the benchmark runs without systemd.
class NoNotifier final : public worker::Notifier {
 public:
  void notify(const std::string&) override {}
};

// Worker::step() and run_worker() exactly as oos-worker runs them, with the handler of type "bench" a
// function that does nothing: what is left is the cost of the loop and the database.
int worker_loop(const std::string& state_dir, const std::string& name) {
  config::Config config;
  util::SystemClock clock;
  // Warnings reach stderr, so that bench/run sees a "database busy" if there is one.
  auto logger = std::make_unique<log::Logger>("oos-bench", log::LogLevel::warn, log::LogFormat::text, config.log);
  std::unique_ptr<store::Backend> backend;
  if (const char* url = std::getenv("OOS_DATABASE_URL"); url && *url)
    backend = std::make_unique<pg::PgBackend>(url, std::nullopt, config, clock, *logger);
  else
    backend = std::make_unique<store::SqliteBackend>(
        std::make_unique<db::Database>(db::OpenOptions{std::filesystem::path(state_dir) / "oos.db",
                                                       config.db.synchronous, config.db.busy_timeout}),
        config, clock, *logger);
  worker::HandlerInputs inputs{{},
                               [](const std::string&) { return std::optional<std::string>(); },
                               [](const std::string&) { return std::optional<std::string>(); }};
  worker::Worker w(*backend, config, clock, *logger, {name, {"default"}, true, std::nullopt}, std::move(inputs));
  w.add_builtin("bench", [](const queue::Task&) { return worker::InProcessResult{true, "", {}}; });
  NoNotifier notifier;
  static volatile std::sig_atomic_t never = 0;
  worker::run_worker(
      w, notifier, *logger,
      {std::nullopt, util::Millis(50), util::Millis(3'600'000), std::filesystem::path(state_dir) / "oos.db"}, never);
  std::printf("worker %s %lld\n", name.c_str(), static_cast<long long>(w.counters().succeeded));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 4 && args[0] == "cold-start" && args[2] == "--")
    return cold_start(std::stol(args[1]), std::vector<std::string>(args.begin() + 3, args.end()));
  if (args.size() == 4 && args[0] == "fill") return fill(args[1], std::stol(args[2]), std::stol(args[3]));
  if (args.size() == 4 && args[0] == "status") return status_bench(args[1], std::stol(args[2]), std::stol(args[3]));
  if (args.size() == 3 && args[0] == "worker") return worker_loop(args[1], args[2]);
  if (args.size() == 3) return queue_bench(args[0], args[1], std::stol(args[2]));
  std::fprintf(stderr,
               "usage: oos-bench enqueue|enqueue-batch|claim STATE_DIR N\n"
               "       oos-bench fill STATE_DIR PENDING DONE\n"
               "       oos-bench status STATE_DIR PENDING RUNS\n"
               "       oos-bench cold-start RUNS -- ARGV...\n"
               "       oos-bench worker STATE_DIR NAME\n");
  return 64;
}
