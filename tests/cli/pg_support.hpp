// The tools of simulated hosts against one PostgreSQL schema of the test cluster (support/pg_cluster): the fixture
// of the cli suites labelled pg (docs/reference.md section 19).
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

#include "cli_support.hpp"
#include "pg/connection.hpp"
#include "support/pg_cluster.hpp"

namespace oos::test {

// `text` percent-encoded for a URL's query.
inline std::string url_encoded(const std::string& text) {
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

// Two hosts' tools on one schema of the test cluster: OOS_DATABASE_URL is set for every tool this fixture runs.
struct PgHosts : CliFixture {
  PgSchema schema = PgCluster::instance().fresh_schema();
  std::string url = "postgresql://postgres@/postgres?host=" + url_encoded(PgCluster::instance().socket_dir().string()) +
                    "&options=" + url_encoded("-c search_path=" + schema.name());
  std::filesystem::path host_b = dir() / "host-b";

  PgHosts() { ::setenv("OOS_DATABASE_URL", url.c_str(), 1); }
  ~PgHosts() { ::unsetenv("OOS_DATABASE_URL"); }

  // A direct connection to the test's schema, for checks.
  pg::Connection connect() { return pg::Connection(schema.conninfo()); }
  long long pg_int(const std::string& sql) {
    auto c = connect();
    return std::stoll(std::string(c.exec_params(sql).text(0, 0)));
  }
  std::string pg_text(const std::string& sql) {
    auto c = connect();
    return std::string(c.exec_params(sql).text(0, 0));
  }

  // Runs the tool `binary_env` on `state_dir` with `args` as the host named `host`: in a UTS namespace of its own
  // (unshare(1)), so that the tool's host name is `host`. Needs root, as CI runs the tests; fails the test otherwise.
  util::RunResult run_as_host(const std::string& host, const char* binary_env, const std::filesystem::path& state_dir,
                              const std::vector<std::string>& args) {
    BOOST_TEST_REQUIRE(::geteuid() == 0,
                       "a simulated host gets its own name with unshare --uts: run as root (CI does)");
    std::vector<std::string> argv{"unshare", "--uts", "sh", "-c", "hostname \"$0\" && exec \"$@\"", host};
    for (auto& arg : tool_argv(binary_env, state_dir, args)) argv.push_back(arg);
    return run(argv);
  }
};

}  // namespace oos::test
