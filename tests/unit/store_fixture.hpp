// A real SQLite state database in a temporary directory, with a manual clock, for the store tests.
#pragma once

#include <memory>

#include "config.hpp"
#include "db/database.hpp"
#include "log.hpp"
#include "queue/queue_store.hpp"
#include "queue/task_store.hpp"
#include "support/printers.hpp"
#include "support/temp_dir.hpp"
#include "util/time.hpp"

namespace oos::test {

struct StoreFixture {
  TempDir dir;
  config::Config config;
  util::ManualClock clock{1'700'000'000'000};
  std::unique_ptr<log::Logger> logger = log::Logger::discard();
  std::unique_ptr<db::Database> db = open();
  queue::TaskStore tasks{*db, config, clock, *logger};
  queue::QueueStore queues{*db, config, *logger};

  std::unique_ptr<db::Database> open() {
    return std::make_unique<db::Database>(
        db::OpenOptions{dir / "oos.db", config::Synchronous::full, util::Millis(2000)});
  }
  long long sql_int(const std::string& sql) { return db->raw().execAndGet(sql).getInt64(); }
  std::string sql_text(const std::string& sql) { return db->raw().execAndGet(sql).getString(); }
  queue::TaskId add(const std::string& queue_name = "default", int priority = 0) {
    queue::NewTask task;
    task.queue = queue_name;
    task.type = "job";
    task.priority = priority;
    return tasks.enqueue(task).id;
  }
};

}  // namespace oos::test
