// A sandboxed oneshot on a PostgreSQL reached over TCP (docs/reference.md section 19): as installed it has no
// network of its own and cannot reach the server; with the drop-in of units/examples/oos-.service.d it does. The
// server is a PostgreSQL 15 started inside the container on its loopback (its network is private).
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>

#include "system/oos_container.hpp"

using oos::test::OosContainer;
using oos::test::wait_until;
using namespace std::chrono_literals;

namespace {

const std::string k_pg_bin = "/usr/lib/postgresql/15/bin";
const std::string k_psql = k_pg_bin + "/psql -X -q -t -A -h 127.0.0.1 -p 15432 -U postgres ";

// initdb and the server as a system user of their own (initdb refuses root; the container's /etc resolves no
// dynamic user), TCP on 127.0.0.1:15432 only.
void start_server(OosContainer& c) {
  c.must("echo 'u pgtest - \"test server\"' | systemd-sysusers -");
  c.must("systemd-run --unit=pgtest -p Type=exec -p User=pgtest -p StateDirectory=pgtest /bin/sh -c '" + k_pg_bin +
         "/initdb -D \"$STATE_DIRECTORY/data\" -U postgres -A trust -N --no-instructions >/dev/null && exec " +
         k_pg_bin +
         "/postgres -D \"$STATE_DIRECTORY/data\" -c listen_addresses=127.0.0.1 -p 15432 "
         "-c unix_socket_directories='");
  BOOST_TEST_REQUIRE(
      wait_until([&] { return c.sh(k_pg_bin + "/pg_isready -q -h 127.0.0.1 -p 15432").exit_code == 0; }, 60s),
      c.sh("journalctl --no-pager -u pgtest").out + c.sh(k_pg_bin + "/pg_isready -h 127.0.0.1 -p 15432").err);
  c.must(k_psql + "-c 'CREATE DATABASE oos' postgres");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_unit)

BOOST_AUTO_TEST_CASE(a_sandboxed_tool_reaches_postgresql_over_tcp_only_with_the_example_drop_in) {
  OosContainer c("pg-tcp");
  start_server(c);
  const std::string service = "oos-cleanup.service";
  c.drop_in(service, "database", "[Service]\nEnvironment=OOS_DATABASE_URL=postgresql://postgres@127.0.0.1:15432/oos\n");

  // As installed: no network of its own, so the server is away, a temporary failure (75).
  auto blocked = c.sh("systemctl start " + service);
  BOOST_TEST(blocked.exit_code != 0);
  BOOST_TEST(c.property(service, "ExecMainStatus") == "75", c.sh("journalctl --no-pager -u " + service).out);
  c.sh("systemctl reset-failed " + service);

  c.must(
      "mkdir -p /etc/systemd/system/oos-.service.d && cp "
      "/opt/oos-src/units/examples/oos-.service.d/postgresql-tcp.conf "
      "/etc/systemd/system/oos-.service.d/ && systemctl daemon-reload");
  auto allowed = c.sh("systemctl start " + service);
  BOOST_TEST(allowed.exit_code == 0, c.sh("journalctl --no-pager -u " + service).out);
  BOOST_TEST(c.property(service, "Result") == "success");
  BOOST_TEST(c.must(k_psql + "-c \"SELECT count(*) FROM events WHERE kind = 'cleanup.run'\" oos") == "1\n");
}

BOOST_AUTO_TEST_SUITE_END()
