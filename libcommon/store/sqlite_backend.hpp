// The SQLite backend: the state directory's oos.db and the SQLite stores on it.
#pragma once

#include <memory>

#include "db/database.hpp"
#include "keys/sqlite_key_ring_store.hpp"
#include "queue/sqlite_queue_store.hpp"
#include "queue/sqlite_task_store.hpp"
#include "queue/sqlite_worker_registry.hpp"
#include "search/sqlite_search_store.hpp"
#include "store/backend.hpp"
#include "store/sqlite_event_log.hpp"
#include "store/sqlite_sample_store.hpp"

namespace oos::store {

class SqliteBackend final : public Backend {
 public:
  // Takes `db` over; the stores keep references to `config`, `clock` and `logger`.
  SqliteBackend(std::unique_ptr<db::Database> db, const config::Config& config, const util::Clock& clock,
                log::Logger& logger)
      : SqliteBackend(*db, config, clock, logger) {
    m_owned = std::move(db);
  }
  // Over a database the caller keeps open for longer than the backend.
  SqliteBackend(db::Database& db, const config::Config& config, const util::Clock& clock, log::Logger& logger)
      : m_db(&db),
        m_tasks(db, config, clock, logger),
        m_queues(db, config, logger),
        m_workers(db),
        m_search(db, config.breaker, logger),
        m_key_rings(db),
        m_samples(db),
        m_events(db) {}

  std::string describe() const override { return m_db->path().string(); }
  queue::TaskStore& tasks() override { return m_tasks; }
  queue::QueueStore& queues() override { return m_queues; }
  queue::WorkerRegistry& workers() override { return m_workers; }
  search::SearchStore& search() override { return m_search; }
  keys::KeyRingStore& key_rings() override { return m_key_rings; }
  SampleStore& samples() override { return m_samples; }
  EventLog& events() override { return m_events; }
  std::unique_ptr<WriteScope> begin_write() override {
    return std::make_unique<TransactionScope<db::WriteTransaction>>(*m_db);
  }
  bool wait_for_work(const util::Clock& clock, util::Millis timeout, const volatile std::sig_atomic_t& stop) override {
    sleep_unless_stopped(clock, timeout, stop);
    return false;
  }
  void release_memory() override { m_db->release_memory(); }
  db::Database* sqlite() override { return m_db; }

 private:
  std::unique_ptr<db::Database> m_owned;  // when the backend owns the database
  db::Database* m_db;
  queue::SqliteTaskStore m_tasks;
  queue::SqliteQueueStore m_queues;
  queue::SqliteWorkerRegistry m_workers;
  search::SqliteSearchStore m_search;
  keys::SqliteKeyRingStore m_key_rings;
  SqliteSampleStore m_samples;
  SqliteEventLog m_events;
};

}  // namespace oos::store
