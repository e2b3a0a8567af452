// The tools of simulated hosts against one PostgreSQL schema of the test cluster (support/pg_cluster): the fixture
// of the cli suites labelled pg (docs/reference.md section 19).
#pragma once

#include <string>

#include "cli_support.hpp"
#include "pg/connection.hpp"

namespace oos::test {

// Two hosts' tools on one schema of the test cluster: CliFixture on PostgreSQL, whatever OOS_TEST_BACKEND says
// (OOS_DATABASE_URL is set for every tool this fixture runs), and a second state directory.
struct PgHosts : CliFixture {
  std::filesystem::path host_b = dir() / "host-b";

  PgHosts() : CliFixture(TestBackend::pg) {}

  // A direct connection to the test's schema, for checks.
  pg::Connection connect() { return pg::Connection(pg_conninfo()); }
  long long pg_int(const std::string& sql) {
    auto c = connect();
    return std::stoll(std::string(c.exec_params(sql).text(0, 0)));
  }
  std::string pg_text(const std::string& sql) {
    auto c = connect();
    return std::string(c.exec_params(sql).text(0, 0));
  }
};

}  // namespace oos::test
