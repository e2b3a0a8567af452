#include "support/pg_cluster.hpp"

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "pg/connection.hpp"
#include "support/pg_bouncer.hpp"
#include "support/temp_dir.hpp"
#include "util/child_process.hpp"
#include "util/subprocess.hpp"

namespace oos::test {

namespace {

// Debian's PostgreSQL 15 (scripts/install-deps); $OOS_PG_BINDIR names another.
std::filesystem::path bin_dir() {
  const char* dir = std::getenv("OOS_PG_BINDIR");
  return dir && *dir ? dir : "/usr/lib/postgresql/15/bin";
}

// As root, the server's programs run as nobody (initdb and postgres refuse root).
std::vector<std::string> as_server_user(const std::filesystem::path& program, std::vector<std::string> args) {
  std::vector<std::string> argv;
  if (::geteuid() == 0) argv = {"runuser", "-u", "nobody", "--"};
  argv.push_back(program.string());
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

// As root, `dir` is given to nobody, who runs the server's programs.
void hand_to_server_user(const std::filesystem::path& dir) {
  if (::geteuid() != 0) return;
  const passwd* nobody = ::getpwnam("nobody");
  if (!nobody || ::chown(dir.c_str(), nobody->pw_uid, nobody->pw_gid) != 0)
    throw std::runtime_error("PostgreSQL test cluster: cannot hand " + dir.string() + " to user nobody");
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

// Ends the PgBouncers (support/pg_bouncer) whose pid files are in the subdirectories of `dir`, if any are (an
// orphan's: ours are our children).
void stop_bouncers(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::ifstream pid_file(entry.path() / "pgbouncer.pid");
    pid_t pid = 0;
    if (pid_file >> pid && pid > 0) ::kill(pid, SIGTERM);
  }
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
    stop_bouncers(entry.path());
    if (std::filesystem::exists(entry.path() / "data" / "postmaster.pid")) {
      util::run_program(as_server_user(bin_dir() / "pg_ctl",
                                       {"-D", (entry.path() / "data").string(), "-m", "immediate", "-w", "stop"}));
    }
    std::filesystem::remove_all(entry.path(), ec);
  }
}

}  // namespace

PgSchema::PgSchema(std::string name, std::string conninfo) : m_name(std::move(name)), m_conninfo(std::move(conninfo)) {}

std::string PgSchema::url() const {
  return "postgresql://postgres@/postgres?host=" + url_encoded(PgCluster::instance().socket_dir().string()) +
         "&options=" + url_encoded("-c search_path=" + m_name);
}

PgSchema::~PgSchema() {
  try {
    pg::Connection connection(PgCluster::instance().conninfo());
    connection.exec_params("DROP SCHEMA IF EXISTS " + m_name + " CASCADE");
  } catch (...) {
    // The cluster goes away at exit anyway.
  }
}

PgDatabase::PgDatabase(std::string name) : m_name(std::move(name)) {}

PgDatabase::~PgDatabase() {
  try {
    pg::Connection connection(PgCluster::instance().conninfo());
    connection.exec_params("DROP DATABASE IF EXISTS " + m_name + " WITH (FORCE)");
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
    hand_to_server_user(m_dir);
    const std::string data = (m_dir / "data").string();
    run_or_throw("initdb", as_server_user(bin_dir() / "initdb", {"-D", data, "-U", "postgres", "-A", "trust", "-N",
                                                                 "--no-instructions", "-E", "UTF8", "--locale=C"}));
    m_options = "-c listen_addresses='' -c unix_socket_directories=" + m_dir.string() +
                " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
    m_running = true;  // from here on, a half-started server is stopped too
    start_server();
  } catch (...) {
    stop();
    throw;
  }
}

void PgCluster::start_server() {
  run_or_throw("pg_ctl start",
               as_server_user(bin_dir() / "pg_ctl", {"-D", (m_dir / "data").string(), "-l", (m_dir / "log").string(),
                                                     "-w", "-o", m_options, "start"}),
               m_dir / "log");
}

void PgCluster::stop_server() {
  run_or_throw("pg_ctl stop",
               as_server_user(bin_dir() / "pg_ctl", {"-D", (m_dir / "data").string(), "-m", "fast", "-w", "stop"}),
               m_dir / "log");
}

PgCluster::~PgCluster() {
  stop();
}

void PgCluster::stop() noexcept {
  try {
    m_bouncer.reset();  // SIGKILL to its process group, then reaped
    if (m_running) {
      util::run_program(
          as_server_user(bin_dir() / "pg_ctl", {"-D", (m_dir / "data").string(), "-m", "immediate", "-w", "stop"}));
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

std::string PgCluster::bouncer_conninfo(const std::string& database) {
  if (!m_bouncer) m_bouncer = std::make_unique<PgBouncer>(*this, 1);
  return m_bouncer->conninfo(database);
}

std::vector<std::string> PgCluster::server_argv(const std::filesystem::path& program,
                                                const std::vector<std::string>& args) const {
  return as_server_user(program, args);
}

std::filesystem::path PgCluster::server_dir(const std::string& prefix) const {
  std::string pattern = (m_dir / (prefix + "XXXXXX")).string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("PostgreSQL test cluster: mkdtemp failed");
  hand_to_server_user(pattern);
  return pattern;
}

PgSchema PgCluster::fresh_schema() {
  const std::string name = "oos_test_" + std::to_string(++m_schemas);
  pg::Connection connection(conninfo());
  connection.exec_params("CREATE SCHEMA " + name);
  return PgSchema(name, conninfo() + " options='-c search_path=" + name + "'");
}

PgDatabase PgCluster::fresh_database() {
  const std::string name = "oos_test_db_" + std::to_string(++m_databases);
  pg::Connection connection(conninfo());
  connection.exec_params("CREATE DATABASE " + name);
  return PgDatabase(name);
}

std::string url_encoded(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      char buffer[4];
      std::snprintf(buffer, sizeof buffer, "%%%02X", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += buffer;
    }
  }
  return out;
}

}  // namespace oos::test
