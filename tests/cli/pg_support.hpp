// The tools of simulated hosts against one PostgreSQL database of the test cluster (support/pg_cluster), directly
// on a schema of its own or through a PgBouncer (support/pg_bouncer): the fixtures of the cli suites labelled pg
// (docs/reference.md section 19), and the kill storm that cli.pg_hosts and cli.pg_bouncer both run.
#pragma once

#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "cli_support.hpp"
#include "pg/connection.hpp"
#include "support/pg_bouncer.hpp"
#include "support/pg_cluster.hpp"

namespace oos::test {

// Two hosts' tools (two state directories) on one PostgreSQL database: OOS_DATABASE_URL is `url` for every tool
// this fixture runs; the test's own queries go to `checks` (a key=value string reaching the same tables).
struct PgTools : CliFixture {
  PgTools(std::string tools_url, std::string checks);
  ~PgTools();

  std::string url;
  std::filesystem::path host_b = dir() / "host-b";

  // A connection for checks (not the tools' way in).
  pg::Connection connect() { return pg::Connection(m_checks); }
  long long pg_int(const std::string& sql);
  std::string pg_text(const std::string& sql);

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

 private:
  std::string m_checks;
};

// The schema of a PgHosts test, made before its tools are pointed at it.
struct PgSchemaOwner {
  PgSchema schema = PgCluster::instance().fresh_schema();
};

// Two hosts' tools on one schema of the test cluster, connected directly (search_path set by the URL's options).
struct PgHosts : PgSchemaOwner, PgTools {
  PgHosts();
};

// The tasks of `file` (one "ID ATTEMPT" line per run that reached its end), as id -> runs.
std::map<long long, int> runs_in(const std::filesystem::path& file);

// The sizes of a kill storm (run_kill_storm).
struct KillStorm {
  int tasks = 2000;                // enqueued in `batches` batches, alternating between the hosts
  int batches = 20;                // one every 750 ms, each followed by a kill
  std::chrono::seconds storm{15};  // kills go on at least this long
  std::string db_table;            // a [db] table for the config (e.g. listen = false), or ""
};

// 2 hosts x 3 workers; a producer enqueues `storm.tasks` in batches while a random worker holding a running task (any
// worker when none does) is SIGKILLed every 750 ms (and started again, as systemd would) for the first part of the run;
// the lease is 3 s, the handler takes 50 ms and records its run only at its end. Checks (BOOST_TEST) that every task
// succeeded exactly once in the store, none is lost, every task the handler ran more than once has a lost attempt per
// extra run, each rescue came within lease + 5 s of the claim, at least one kill landed on a running task, and every
// worker ends on SIGTERM with 0.
void run_kill_storm(PgTools& hosts, const KillStorm& storm);

}  // namespace oos::test
