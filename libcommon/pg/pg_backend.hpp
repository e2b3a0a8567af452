// The PostgreSQL backend (docs/reference.md section 19): one connection to the shared database, migrated on
// open under its advisory lock, the PostgreSQL stores on it, and the idle wait (a second connection that LISTENs).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "config.hpp"
#include "log.hpp"
#include "pg/connection.hpp"
#include "pg/events.hpp"
#include "pg/listener.hpp"
#include "pg/pg_key_ring_store.hpp"
#include "pg/pg_queue_store.hpp"
#include "pg/pg_sample_store.hpp"
#include "pg/pg_search_store.hpp"
#include "pg/pg_task_store.hpp"
#include "pg/pg_worker_registry.hpp"
#include "store/backend.hpp"

namespace oos::pg {

class PgBackend final : public store::Backend {
 public:
  // Connects to `url` (with `password`, the secret OOS_DATABASE_PASSWORD, when given) and migrates the schema.
  // Throws oos::Error like Connection and migrate(): 69 unreachable or a newer schema, 78 a bad URL.
  PgBackend(const std::string& url, const std::optional<std::string>& password, const config::Config& config,
            const util::Clock& clock, log::Logger& logger);

  std::string describe() const override { return "PostgreSQL at " + m_connection.server(); }
  queue::TaskStore& tasks() override { return m_tasks; }
  queue::QueueStore& queues() override { return m_queues; }
  queue::WorkerRegistry& workers() override { return m_workers; }
  search::SearchStore& search() override { return m_search; }
  keys::KeyRingStore& key_rings() override { return m_key_rings; }
  // This host's samples (util::host_name()).
  store::SampleStore& samples() override { return m_samples; }
  store::EventLog& events() override { return m_events; }
  std::unique_ptr<store::WriteScope> begin_write() override {
    return std::make_unique<store::TransactionScope<Transaction>>(m_connection);
  }
  // LISTEN on a second connection, opened on the first wait (db.listen), else a sleep: pg::WorkWaiter.
  bool wait_for_work(const util::Clock& clock, util::Millis timeout, const volatile std::sig_atomic_t& stop) override {
    return m_waiter.wait(clock, timeout, stop);
  }
  void release_memory() override {}  // the connection caches nothing worth freeing
  db::Database* sqlite() override { return nullptr; }
  // schema_version() and observe_server() on the stores' connection.
  std::optional<store::ServerReading> read_server(const config::DbSettings& settings,
                                                  const util::Clock& clock) override;
  // The connection the stores share, for what only PostgreSQL has (oos-health's server checks).
  Connection& connection() { return m_connection; }

 private:
  Connection m_connection;
  PgTaskStore m_tasks;
  PgQueueStore m_queues;
  PgWorkerRegistry m_workers;
  PgSearchStore m_search;
  PgKeyRingStore m_key_rings;
  PgSampleStore m_samples;
  PgEventLog m_events;
  WorkWaiter m_waiter;
};

}  // namespace oos::pg
