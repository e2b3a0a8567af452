// The store contract (store_contract_cases.hpp) on PostgreSQL: a fresh, migrated schema of the throwaway test
// cluster (support/pg_cluster) per case, and the PostgreSQL stores on a connection to it.
#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "error.hpp"
#include "pg/connection.hpp"
#include "pg/events.hpp"
#include "pg/pg_backend.hpp"
#include "pg/pg_key_ring_store.hpp"
#include "pg/pg_queue_store.hpp"
#include "pg/pg_sample_store.hpp"
#include "pg/pg_search_store.hpp"
#include "pg/pg_task_store.hpp"
#include "pg/pg_worker_registry.hpp"
#include "pg/schema.hpp"
#include "pg/values.hpp"
#include "store/backend.hpp"
#include "store_contract.hpp"
#include "support/pg_cluster.hpp"
#include "support/printers.hpp"

using namespace oos;
using namespace oos::queue;
using namespace oos::test;

// A named namespace: the cases, in another file, derive from the fixture (-Wsubobject-linkage).
namespace pg_contract {

// The PostgreSQL stores on a connection of their own to `conninfo` (pg::PgBackend without its URL handling).
class PgConnectionBackend final : public store::Backend {
 public:
  PgConnectionBackend(const std::string& conninfo, const config::Config& config, const util::Clock& clock,
                      log::Logger& logger)
      : m_connection(conninfo),
        m_tasks(m_connection, config, clock, logger),
        m_queues(m_connection, config, logger),
        m_workers(m_connection),
        m_search(m_connection, config.breaker, logger),
        m_key_rings(m_connection),
        m_samples(m_connection, "test-host"),
        m_events(m_connection) {}

  std::string describe() const override { return "PostgreSQL at " + m_connection.server(); }
  queue::TaskStore& tasks() override { return m_tasks; }
  queue::QueueStore& queues() override { return m_queues; }
  queue::WorkerRegistry& workers() override { return m_workers; }
  search::SearchStore& search() override { return m_search; }
  keys::KeyRingStore& key_rings() override { return m_key_rings; }
  store::SampleStore& samples() override { return m_samples; }
  store::EventLog& events() override { return m_events; }
  std::unique_ptr<store::WriteScope> begin_write() override {
    return std::make_unique<store::TransactionScope<pg::Transaction>>(m_connection);
  }
  bool wait_for_work(const util::Clock& clock, util::Millis timeout, const volatile std::sig_atomic_t& stop) override {
    store::sleep_unless_stopped(clock, timeout, stop);  // the stores' contract needs no wake-up
    return false;
  }
  void release_memory() override {}
  db::Database* sqlite() override { return nullptr; }
  pg::Connection& connection() { return m_connection; }

 private:
  pg::Connection m_connection;
  pg::PgTaskStore m_tasks;
  pg::PgQueueStore m_queues;
  pg::PgWorkerRegistry m_workers;
  pg::PgSearchStore m_search;
  pg::PgKeyRingStore m_key_rings;
  pg::PgSampleStore m_samples;
  pg::PgEventLog m_events;
};

class PgUnderTest final : public BackendUnderTest {
 public:
  explicit PgUnderTest(StoreContractFixture& f)
      : m_f(f), m_schema(PgCluster::instance().fresh_schema()), m_backend(migrated(m_schema.conninfo())) {}

  store::Backend& backend() override { return *m_backend; }
  std::unique_ptr<store::Backend> connect() override {
    return std::make_unique<PgConnectionBackend>(m_schema.conninfo(), m_f.config, m_f.clock, *m_f.logger);
  }
  std::int64_t sql_int(const std::string& sql) override {
    return pg::int_at(m_backend->connection().exec_params(sql), 0, 0);
  }
  std::string sql_text(const std::string& sql) override {
    return std::string(m_backend->connection().exec_params(sql).text(0, 0));
  }
  void sql_exec(const std::string& sql) override { m_backend->connection().exec_params(sql); }

 private:
  std::unique_ptr<PgConnectionBackend> migrated(const std::string& conninfo) {
    {
      pg::Connection migrating(conninfo);
      pg::migrate(migrating);
    }
    return std::make_unique<PgConnectionBackend>(conninfo, m_f.config, m_f.clock, *m_f.logger);
  }

  StoreContractFixture& m_f;
  PgSchema m_schema;
  std::unique_ptr<PgConnectionBackend> m_backend;
};

struct ContractFixture : StoreContractFixture {
  ContractFixture()
      : StoreContractFixture([](StoreContractFixture& f) -> std::unique_ptr<BackendUnderTest> {
          return std::make_unique<PgUnderTest>(f);
        }) {}
};

}  // namespace pg_contract

using ContractFixture = pg_contract::ContractFixture;

BOOST_AUTO_TEST_SUITE(store_contract_pg)

#include "store_contract_cases.hpp"

BOOST_AUTO_TEST_SUITE_END()
