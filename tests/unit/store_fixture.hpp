// A real SQLite state database in a temporary directory, with a manual clock, for the store tests.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "config.hpp"
#include "db/database.hpp"
#include "log.hpp"
#include "queue/queue_store.hpp"
#include "queue/sqlite_queue_store.hpp"
#include "queue/sqlite_task_store.hpp"
#include "store_steps.hpp"
#include "support/printers.hpp"
#include "support/temp_dir.hpp"
#include "util/time.hpp"

namespace oos::test {

// The statements SQLite runs on `db` while `what` runs, with their bound values (for EXPLAIN checks).
inline std::vector<std::string> statements_run(db::Database& db, const std::function<void()>& what) {
  std::vector<std::string> statements;
  auto record = [](unsigned, void* sink, void* statement, void*) {
    if (char* sql = sqlite3_expanded_sql(static_cast<sqlite3_stmt*>(statement))) {
      static_cast<std::vector<std::string>*>(sink)->emplace_back(sql);
      sqlite3_free(sql);
    }
    return 0;
  };
  sqlite3_trace_v2(db.raw().getHandle(), SQLITE_TRACE_STMT, record, &statements);
  what();
  sqlite3_trace_v2(db.raw().getHandle(), 0, nullptr, nullptr);
  return statements;
}

// A wall clock that another thread may move (ManualClock is not meant to be shared between threads).
struct SharedClock final : util::Clock {
  std::atomic<util::UnixMillis> ms{1'700'000'000'000};
  util::UnixMillis now() const override { return ms.load(); }
  double monotonic() const override { return static_cast<double>(ms.load()) / 1000.0; }
  void sleep_for(std::int64_t) const override {}
};

struct StoreFixture {
  TempDir dir;
  config::Config config;
  util::ManualClock clock{1'700'000'000'000};
  std::unique_ptr<log::Logger> logger = log::Logger::discard();
  std::unique_ptr<db::Database> db = open();
  queue::SqliteTaskStore tasks{*db, config, clock, *logger};
  queue::SqliteQueueStore queues{*db, config, *logger};

  std::unique_ptr<db::Database> open() {
    return std::make_unique<db::Database>(
        db::OpenOptions{dir / "oos.db", config::Synchronous::full, util::Millis(2000)});
  }
  long long sql_int(const std::string& sql) { return db->raw().execAndGet(sql).getInt64(); }

  // Runs `write` while another connection holds the write lock; that connection moves `shared` by `waited_ms`
  // and then commits, 100 ms after `write` started waiting for the lock: what `write` does with the time shows
  // whether it read the clock before or after it got the lock.
  void write_after_waiting_for_the_lock(SharedClock& shared, std::int64_t waited_ms,
                                        const std::function<void()>& write) {
    auto holder = open();
    holder->raw().exec("BEGIN IMMEDIATE");
    std::thread other([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // `write` is waiting by now
      shared.ms += waited_ms;
      holder->raw().exec("COMMIT");
    });
    write();
    other.join();
  }
  std::string sql_text(const std::string& sql) { return db->raw().execAndGet(sql).getString(); }
  queue::TaskId add(const std::string& queue_name = "default", int priority = 0) {
    return add_job(tasks, queue_name, priority);
  }
};

}  // namespace oos::test
