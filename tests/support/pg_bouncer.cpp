#include "support/pg_bouncer.hpp"

#include <signal.h>
#include <stdlib.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "error.hpp"
#include "pg/connection.hpp"
#include "support/pg_cluster.hpp"
#include "support/temp_dir.hpp"
#include "util/subprocess.hpp"

namespace oos::test {

namespace {

// Debian's PgBouncer (scripts/install-deps).
constexpr const char* k_pgbouncer = "/usr/sbin/pgbouncer";
constexpr int k_port = 6432;  // of its socket file (.s.PGSQL.6432): each bouncer has a directory of its own

std::string config(const std::filesystem::path& dir, const std::filesystem::path& server_dir, int pool_size) {
  const std::string d = dir.string();
  // Every database name a client asks for is the server's database of that name.
  return "[databases]\n* = host=" + server_dir.string() +
         "\n[pgbouncer]\n"
         "listen_addr =\n"
         "unix_socket_dir = " +
         d + "\nlisten_port = " + std::to_string(k_port) +
         "\nauth_type = trust\n"
         "auth_file = " +
         d +
         "/users.txt\n"
         "pool_mode = transaction\n"
         "default_pool_size = " +
         std::to_string(pool_size) +
         "\n"
         "max_client_conn = 200\n"
         "logfile = " +
         d + "/pgbouncer.log\npidfile = " + d + "/pgbouncer.pid\n";
}

}  // namespace

PgBouncer::PgBouncer(PgCluster& cluster, int pool_size) {
  if (!std::filesystem::exists(k_pgbouncer)) {
    throw std::runtime_error(std::string("PostgreSQL test cluster: ") + k_pgbouncer +
                             " not found: run scripts/install-deps (package pgbouncer)");
  }
  m_dir = cluster.server_dir("pgbouncer-");
  write_file(m_dir / "users.txt", "\"postgres\" \"\"\n");
  write_file(m_dir / "pgbouncer.ini", config(m_dir, cluster.socket_dir(), pool_size));
  // In the foreground, as our child (-d would fork a daemon that could leave our process group); -q: it logs to
  // its file only, so its unread stderr pipe never fills.
  util::ChildSpec spec;
  spec.argv = cluster.server_argv(k_pgbouncer, {"-q", (m_dir / "pgbouncer.ini").string()});
  for (char** entry = environ; *entry; ++entry) spec.env.emplace_back(*entry);
  m_process = std::make_unique<util::ChildProcess>(spec);
  // Its socket file appears before it listens: wait for a connection.
  for (int waited_ms = 0;; waited_ms += 10) {
    try {
      pg::Connection probe(conninfo("postgres"));
      return;
    } catch (const Error&) {
    }
    if (waited_ms >= 5'000 || m_process->step(0)) {
      const std::string tail = util::run_program({"tail", "-n", "20", log().string()}).out;
      m_process.reset();
      std::error_code ec;
      std::filesystem::remove_all(m_dir, ec);
      throw std::runtime_error("PostgreSQL test cluster: pgbouncer did not listen within 5 s: " + tail);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

PgBouncer::~PgBouncer() {
  m_process->signal_group(SIGTERM);  // PgBouncer's immediate shutdown
  for (int waited_ms = 0; !m_process->step(10) && waited_ms < 2'000; waited_ms += 10) {
  }
  m_process.reset();  // SIGKILL to what is left of its group, reaped
  std::error_code ec;
  std::filesystem::remove_all(m_dir, ec);
}

std::string PgBouncer::conninfo(const std::string& database) const {
  return "host=" + m_dir.string() + " port=" + std::to_string(k_port) + " user=postgres dbname=" + database;
}

std::string PgBouncer::url(const std::string& database) const {
  return "postgresql://postgres@/" + database + "?host=" + url_encoded(m_dir.string()) +
         "&port=" + std::to_string(k_port);
}

}  // namespace oos::test
