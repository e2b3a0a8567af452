#include "pg/pg_backend.hpp"

#include "pg/schema.hpp"
#include "pg/server_health.hpp"
#include "util/process_usage.hpp"

namespace oos::pg {

namespace {

// The connection, migrated before the stores are built on it.
Connection migrated(const std::string& url, const std::optional<std::string>& password) {
  Connection connection(url, password);
  migrate(connection);
  return connection;
}

}  // namespace

PgBackend::PgBackend(const std::string& url, const std::optional<std::string>& password, const config::Config& config,
                     const util::Clock& clock, log::Logger& logger)
    : m_connection(migrated(url, password)),
      m_tasks(m_connection, config, clock, logger),
      m_queues(m_connection, config, logger),
      m_workers(m_connection),
      m_search(m_connection, config.breaker, logger),
      m_key_rings(m_connection),
      m_samples(m_connection, util::host_name()),
      m_events(m_connection),
      m_waiter(url, password, WaitOptions{config.db.listen, config.worker.poll_interval}, logger) {}

std::optional<store::ServerReading> PgBackend::read_server(const config::DbSettings& settings,
                                                           const util::Clock& clock) {
  return store::ServerReading{schema_version(m_connection), observe_server(m_connection, settings, clock)};
}

}  // namespace oos::pg
