// store::SampleStore on the shared PostgreSQL database: each host's oos-scale keeps its own load history, so the
// rows carry the host's name (schema version 2) and every statement reads and prunes that host's rows only. The
// queue depth in a sample is the shared one (every host's tasks); the load and memory are the host's.
#pragma once

#include <string>

#include "pg/connection.hpp"
#include "store/sample_store.hpp"

namespace oos::pg {

class PgSampleStore final : public store::SampleStore {
 public:
  // The samples of `host` (util::host_name() for the running tool) on `connection`.
  PgSampleStore(Connection& connection, std::string host) : m_connection(connection), m_host(std::move(host)) {}

  void record(const store::Sample& sample) override;
  std::vector<store::Sample> since(util::UnixMillis from) override;
  std::optional<store::Sample> latest_before(util::UnixMillis at) override;
  std::int64_t prune(util::UnixMillis older_than) override;

 private:
  Connection& m_connection;
  std::string m_host;
};

}  // namespace oos::pg
