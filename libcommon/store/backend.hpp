// The storage seam (docs/reference.md section 19): one open state database, SQLite in the state directory or a
// shared PostgreSQL, and the stores on it. Tools and the worker hold a Backend& and the store interfaces it hands
// out; only the host-local tools (backup, integrity) ask for the SQLite file itself.
#pragma once

#include <algorithm>
#include <cmath>
#include <csignal>
#include <memory>
#include <optional>
#include <string>

#include "config.hpp"
#include "keys/key_ring_store.hpp"
#include "policy/health.hpp"
#include "queue/queue_store.hpp"
#include "queue/task_store.hpp"
#include "queue/worker_registry.hpp"
#include "store/event_log.hpp"
#include "store/sample_store.hpp"
#include "util/duration.hpp"
#include "util/time.hpp"

namespace oos::db {
class Database;
}
namespace oos::search {
class SearchStore;
}

namespace oos::store {

// What oos-health reads of the server behind a shared database: its schema version and pg/server_health's figures.
struct ServerReading {
  int schema_version = 0;
  policy::PostgresHealth server;
};

// A write in progress on a backend's connection (Backend::begin_write): what the stores and the EventLog do on that
// connection until commit() commits with it; destroyed without commit(), all of it is rolled back (never throws).
class WriteScope {
 public:
  virtual ~WriteScope() = default;
  // Commits; throws oos::Error (or SQLite's exception) as the stores' writes do, and then nothing was committed.
  virtual void commit() = 0;
};

// A backend's own transaction (db::WriteTransaction, pg::Transaction: nested, a SAVEPOINT) as a WriteScope.
template <class Transaction>
class TransactionScope final : public WriteScope {
 public:
  template <class Handle>
  explicit TransactionScope(Handle& handle) : m_transaction(handle) {}
  void commit() override { m_transaction.commit(); }

 private:
  Transaction m_transaction;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // The database as messages name it: the SQLite file's path, or "PostgreSQL at HOST:PORT/DB".
  virtual std::string describe() const = 0;

  virtual queue::TaskStore& tasks() = 0;
  virtual queue::QueueStore& queues() = 0;
  virtual queue::WorkerRegistry& workers() = 0;
  // The search client's ledger, cache and breakers (oos-search, the worker's built-in `search` type).
  virtual search::SearchStore& search() = 0;
  // The key rings' keys by fingerprint (handlers with key_rings).
  virtual keys::KeyRingStore& key_rings() = 0;
  // oos-scale's samples of this host (on PostgreSQL, the rows keyed by this host's name).
  virtual SampleStore& samples() = 0;
  // The audit log.
  virtual EventLog& events() = 0;

  // Opens a transaction on the stores' connection: the stores' own transactions nest in it (SQLite's and
  // PostgreSQL's savepoints), so several calls and an event commit together or not at all (oos-api's writes). One
  // at a time; the connection is the caller's alone until the scope ends.
  virtual std::unique_ptr<WriteScope> begin_write() = 0;

  // The idle wait of a worker: waits up to `timeout` on `clock`, or until `stop` is set (checked every 100 ms).
  // True when it returned early because work was announced (PostgreSQL's LISTEN/NOTIFY): the caller steps at once;
  // false after the timeout or a stop. SQLite announces nothing: a plain sleep, the worker polls.
  virtual bool wait_for_work(const util::Clock& clock, util::Millis timeout,
                             const volatile std::sig_atomic_t& stop) = 0;

  // Frees what the connection caches (the worker's answer to memory pressure; SIGUSR1).
  virtual void release_memory() = 0;

  // The SQLite database, for what only exists on SQLite (backups, integrity checks, the health of its file);
  // nullptr on PostgreSQL.
  virtual db::Database* sqlite() = 0;

  // The server's schema version and health (connections, the oldest transaction, clock skew against `clock`), for
  // oos-health; nullopt when there is no server (SQLite). A virtual call, so that oos-health reaches the PostgreSQL
  // module's code without linking libpq. Throws oos::Error as the stores' reads do.
  virtual std::optional<ServerReading> read_server(const config::DbSettings& /*settings*/,
                                                   const util::Clock& /*clock*/) {
    return std::nullopt;
  }
};

// Sleeps `timeout` on `clock` in slices of at most 100 ms, returning early once `stop` is set (a sleep resumes
// after a signal, so one long sleep would hold a stop back).
inline void sleep_unless_stopped(const util::Clock& clock, util::Millis timeout,
                                 const volatile std::sig_atomic_t& stop) {
  const double until = clock.monotonic() + static_cast<double>(timeout.count()) / 1000.0;
  for (double now = clock.monotonic(); !stop && now < until; now = clock.monotonic())
    clock.sleep_for(static_cast<std::int64_t>(std::ceil(std::min(100.0, (until - now) * 1000.0))));
}

}  // namespace oos::store
