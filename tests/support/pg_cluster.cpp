#include "support/pg_cluster.hpp"

#include <cerrno>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "pg/connection.hpp"
#include "support/temp_dir.hpp"
#include "util/subprocess.hpp"

namespace oos::test {

namespace {

// Debian's PostgreSQL 15 (scripts/install-deps); $OOS_PG_BINDIR names another.
std::filesystem::path bin_dir() {
  const char* dir = std::getenv("OOS_PG_BINDIR");
  return dir && *dir ? dir : "/usr/lib/postgresql/15/bin";
}

// As root, the server's programs run as nobody (initdb and postgres refuse root).
std::vector<std::string> as_server_user(const std::string& program, std::vector<std::string> args) {
  std::vector<std::string> argv;
  if (::geteuid() == 0) argv = {"runuser", "-u", "nobody", "--"};
  argv.push_back((bin_dir() / program).string());
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

void run_or_throw(const std::string& what, const std::vector<std::string>& argv,
                  const std::filesystem::path& log = {}) {
  const util::RunResult run = util::run_program(argv);
  if (run.exit_code == 0) return;
  std::string message =
      "PostgreSQL test cluster: " + what + " failed (exit " + std::to_string(run.exit_code) + "): " + run.err + run.out;
  if (!log.empty()) message += util::run_program({"tail", "-n", "20", log.string()}).out;
  throw std::runtime_error(message);
}

// The file in a cluster's directory naming the test process that owns it.
constexpr const char* k_owner_file = "owner.pid";

// Stops and removes the clusters of test binaries that died without stopping theirs (SIGKILL, a ctest
// timeout): their directory's owner process is gone. Clusters of live binaries (ctest -j) are left alone.
void sweep_orphans() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::temp_directory_path(), ec)) {
    if (!entry.path().filename().string().starts_with("oos-pg-")) continue;
    std::ifstream owner_file(entry.path() / k_owner_file);
    pid_t owner = 0;
    if (!(owner_file >> owner) || owner <= 0 || ::kill(owner, 0) == 0 || errno != ESRCH) continue;
    if (std::filesystem::exists(entry.path() / "data" / "postmaster.pid")) {
      util::run_program(
          as_server_user("pg_ctl", {"-D", (entry.path() / "data").string(), "-m", "immediate", "-w", "stop"}));
    }
    std::filesystem::remove_all(entry.path(), ec);
  }
}

}  // namespace

PgSchema::PgSchema(std::string name, std::string conninfo) : m_name(std::move(name)), m_conninfo(std::move(conninfo)) {}

PgSchema::~PgSchema() {
  try {
    pg::Connection connection(PgCluster::instance().conninfo());
    connection.exec_params("DROP SCHEMA IF EXISTS " + m_name + " CASCADE");
  } catch (...) {
    // The cluster goes away at exit anyway.
  }
}

PgCluster& PgCluster::instance() {
  // Once per binary: a failed start is not retried by every test (each would wait for initdb again).
  static std::optional<std::string> failure;
  static std::unique_ptr<PgCluster> cluster;
  if (failure) throw std::runtime_error(*failure);
  if (!cluster) {
    try {
      cluster.reset(new PgCluster());
    } catch (const std::exception& e) {
      failure = e.what();
      throw;
    }
  }
  return *cluster;
}

PgCluster::PgCluster() {
  if (!std::filesystem::exists(bin_dir() / "initdb")) {
    throw std::runtime_error("PostgreSQL test cluster: " + (bin_dir() / "initdb").string() +
                             " not found: run scripts/install-deps (packages postgresql, libpq-dev)");
  }
  std::string pattern = (std::filesystem::temp_directory_path() / "oos-pg-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("PostgreSQL test cluster: mkdtemp failed");
  m_dir = pattern;
  try {
    write_file(m_dir / k_owner_file, std::to_string(::getpid()));
    sweep_orphans();
    if (::geteuid() == 0) {
      const passwd* nobody = ::getpwnam("nobody");
      if (!nobody || ::chown(m_dir.c_str(), nobody->pw_uid, nobody->pw_gid) != 0) {
        throw std::runtime_error("PostgreSQL test cluster: cannot hand " + m_dir.string() + " to user nobody");
      }
    }
    const std::string data = (m_dir / "data").string();
    run_or_throw("initdb", as_server_user("initdb", {"-D", data, "-U", "postgres", "-A", "trust", "-N",
                                                     "--no-instructions", "-E", "UTF8", "--locale=C"}));
    const std::string options = "-c listen_addresses='' -c unix_socket_directories=" + m_dir.string() +
                                " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
    m_running = true;  // from here on, a half-started server is stopped too
    run_or_throw("pg_ctl start",
                 as_server_user("pg_ctl", {"-D", data, "-l", (m_dir / "log").string(), "-w", "-o", options, "start"}),
                 m_dir / "log");
  } catch (...) {
    stop();
    throw;
  }
}

PgCluster::~PgCluster() {
  stop();
}

void PgCluster::stop() noexcept {
  try {
    if (m_running) {
      util::run_program(as_server_user("pg_ctl", {"-D", (m_dir / "data").string(), "-m", "immediate", "-w", "stop"}));
      m_running = false;
    }
  } catch (...) {
  }
  std::error_code ec;
  std::filesystem::remove_all(m_dir, ec);
}

std::string PgCluster::conninfo(const std::string& database) const {
  return "host=" + m_dir.string() + " user=postgres dbname=" + database;
}

PgSchema PgCluster::fresh_schema() {
  const std::string name = "oos_test_" + std::to_string(++m_schemas);
  pg::Connection connection(conninfo());
  connection.exec_params("CREATE SCHEMA " + name);
  return PgSchema(name, conninfo() + " options='-c search_path=" + name + "'");
}

}  // namespace oos::test
