// The storage seam (docs/reference.md section 19): one open state database, SQLite in the state directory or a
// shared PostgreSQL, and the stores on it. Tools and the worker hold a Backend& and the store interfaces it hands
// out; only the host-local tools (backup, integrity) ask for the SQLite file itself.
#pragma once

#include <string>

#include "queue/queue_store.hpp"
#include "queue/task_store.hpp"
#include "queue/worker_registry.hpp"

namespace oos::db {
class Database;
}

namespace oos::store {

class Backend {
 public:
  virtual ~Backend() = default;

  // The database as messages name it: the SQLite file's path, or "PostgreSQL at HOST:PORT/DB".
  virtual std::string describe() const = 0;

  virtual queue::TaskStore& tasks() = 0;
  virtual queue::QueueStore& queues() = 0;
  virtual queue::WorkerRegistry& workers() = 0;

  // Frees what the connection caches (the worker's answer to memory pressure; SIGUSR1).
  virtual void release_memory() = 0;

  // The SQLite database, for what only exists on SQLite (backups, integrity checks, the API for now);
  // nullptr on PostgreSQL.
  virtual db::Database* sqlite() = 0;
};

}  // namespace oos::store
