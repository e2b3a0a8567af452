// A throwaway PgBouncer 1.18 in front of the test cluster (support/pg_cluster), in transaction mode: its clients
// share `pool_size` server connections per database, a client holding one only for a transaction (or a statement
// outside one). It listens on a unix socket in a directory of its own inside the cluster's (no TCP), runs as the
// cluster's user, lets user postgres in without a password (auth_type = trust, auth_file naming it) and connects to
// the server as that user. It passes no startup options (`options=-c search_path=...` is refused): give each test
// a database of its own (PgCluster::fresh_database()) rather than a schema.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "util/child_process.hpp"

namespace oos::test {

class PgCluster;

class PgBouncer {
 public:
  // Starts one and waits until it accepts connections. Throws std::runtime_error when pgbouncer is missing ("run
  // scripts/install-deps (package pgbouncer)") or does not listen within 5 s (with the end of its log).
  PgBouncer(PgCluster& cluster, int pool_size);
  // Stops it (SIGTERM, then SIGKILL to its process group if it lingers) and removes its directory.
  ~PgBouncer();
  PgBouncer(const PgBouncer&) = delete;
  PgBouncer& operator=(const PgBouncer&) = delete;

  // key=value connection string for `database` through the bouncer, as user postgres.
  std::string conninfo(const std::string& database) const;
  // The same as a postgresql:// URL (what db.url and OOS_DATABASE_URL take).
  std::string url(const std::string& database) const;
  // Its log file (connections, errors, pool statistics).
  std::filesystem::path log() const { return m_dir / "pgbouncer.log"; }

 private:
  std::filesystem::path m_dir;
  std::unique_ptr<util::ChildProcess> m_process;
};

}  // namespace oos::test
