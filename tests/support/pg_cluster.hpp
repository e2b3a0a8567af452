// A throwaway PostgreSQL 15 cluster for the tests: started once per test binary run, on first use, and
// stopped (-m immediate) and removed when the binary exits. initdb refuses root and the tests run as root:
// as root the server runs as user nobody, on a temporary directory nobody owns, which also holds its socket
// (listen_addresses='': no TCP). fsync and synchronous_commit are off: for functional tests, not durability
// figures. A binary killed before it could stop its cluster leaves it running: the next start stops and
// removes such orphans (their owner process is gone), with the PgBouncers they started. Each test takes a schema of
// its own (fresh_schema(): ~1 ms), or a database (fresh_database(): 0.2-0.7 s) where a schema cannot be chosen (a
// PgBouncer passes no search_path).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace oos::test {

// A schema of its own for one test, dropped (CASCADE) when it goes out of scope.
class PgSchema {
 public:
  PgSchema(std::string name, std::string conninfo);
  ~PgSchema();
  PgSchema(const PgSchema&) = delete;
  PgSchema& operator=(const PgSchema&) = delete;
  const std::string& name() const { return m_name; }
  // Connects to the cluster with this schema first in search_path: unqualified names land in it.
  const std::string& conninfo() const { return m_conninfo; }
  // The same as a postgresql:// URL, for the tools' OOS_DATABASE_URL (search_path set by its options).
  std::string url() const;

 private:
  std::string m_name;
  std::string m_conninfo;
};

// A database of its own for one test, dropped (WITH (FORCE): its sessions ended) when it goes out of scope.
class PgDatabase {
 public:
  explicit PgDatabase(std::string name);
  ~PgDatabase();
  PgDatabase(const PgDatabase&) = delete;
  PgDatabase& operator=(const PgDatabase&) = delete;
  const std::string& name() const { return m_name; }

 private:
  std::string m_name;
};

class PgBouncer;

class PgCluster {
 public:
  // The cluster of this test binary, started on the first call (initdb ~4 s). Throws std::runtime_error
  // with the cause (PostgreSQL 15 missing: "run scripts/install-deps"; initdb or start failing: its log),
  // and the same error again on later calls.
  static PgCluster& instance();
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // key=value connection string for `database` as user postgres (trust: no password).
  std::string conninfo(const std::string& database = "postgres") const;
  // key=value connection string for `database` through a PgBouncer in transaction mode (support/pg_bouncer: a pool
  // of one server connection, which its clients share) in front of the cluster, started on the first call, ended at
  // exit. It passes no startup options: a schema's search_path does not reach the server, qualify names instead.
  std::string bouncer_conninfo(const std::string& database = "postgres");
  // The directory holding the server's socket (and data directory).
  const std::filesystem::path& socket_dir() const { return m_dir; }
  // A new, empty schema (oos_test_<n>).
  PgSchema fresh_schema();
  // A new, empty database (oos_test_db_<n>).
  PgDatabase fresh_database();
  // `program` with `args`, run as the server's user (nobody when we are root: initdb and postgres refuse root).
  std::vector<std::string> server_argv(const std::filesystem::path& program,
                                       const std::vector<std::string>& args) const;
  // A new directory (`prefix` and a random suffix) inside the cluster's, owned by the server's user.
  std::filesystem::path server_dir(const std::string& prefix) const;
  // Stops the server as an operator's `pg_ctl stop -m fast` would (sessions ended, transactions rolled back), and
  // starts it again with the same settings: a test of what clients do while it is away.
  void stop_server();
  void start_server();

 private:
  PgCluster();
  void stop() noexcept;

  std::filesystem::path m_dir;
  std::string m_options;  // the server's -o options
  bool m_running = false;
  std::unique_ptr<PgBouncer> m_bouncer;  // once bouncer_conninfo() started it
  int m_schemas = 0;
  int m_databases = 0;
};

// `text` percent-encoded for a URL (unreserved characters kept).
std::string url_encoded(const std::string& text);

}  // namespace oos::test
