// pg::Connection, Result and Transaction against the throwaway PostgreSQL cluster (support/pg_cluster).
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "error.hpp"
#include "pg/connection.hpp"
#include "pg/values.hpp"
#include "support/error_of.hpp"
#include "support/pg_cluster.hpp"
#include "support/printers.hpp"
#include "support/silent_server.hpp"

namespace oos {
namespace {

using test::error_of;

long count_rows(pg::Connection& connection, const std::string& table) {
  return std::stol(std::string(connection.exec_params("SELECT count(*) FROM " + table).text(0, 0)));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_connection)

BOOST_AUTO_TEST_CASE(text_null_and_unicode_parameters_round_trip_unchanged) {
  pg::Connection connection(test::PgCluster::instance().conninfo());
  const std::string unicode = "żółw 🐢 \"quoted\" 'single' back\\slash";
  const std::string injection = "x'); DROP TABLE pg_class; --";
  const pg::Result result =
      connection.exec_params("SELECT $1::text, $2::text, $3::text, $4::text, $2::text IS NULL, octet_length($3)",
                             {pg::Param{"plain"}, std::nullopt, unicode, injection});
  BOOST_TEST(result.rows() == 1);
  BOOST_TEST(result.columns() == 6);
  BOOST_TEST(result.text(0, 0) == "plain");
  BOOST_TEST(result.is_null(0, 1));
  BOOST_TEST(!result.value(0, 1).has_value());
  BOOST_TEST(result.value(0, 2).value() == unicode);
  BOOST_TEST(result.text(0, 3) == injection);
  BOOST_TEST(result.text(0, 4) == "t");
  BOOST_TEST(result.text(0, 5) == std::to_string(unicode.size()));
}

// Text holds no NUL and only UTF-8 as the server judges it: such bytes (raw handler output) are sent as U+FFFD, one
// each, instead of cutting the value at the NUL or failing the statement (SQLSTATE 22021); valid text is unchanged.
BOOST_AUTO_TEST_CASE(a_parameter_text_cannot_hold_is_sent_with_u_fffd_for_each_such_byte) {
  pg::Connection connection(test::PgCluster::instance().conninfo());
  const std::string fffd = "\xEF\xBF\xBD";
  const std::vector<std::pair<std::string, std::string>> cases{
      {std::string("a\0b", 3), "a" + fffd + "b"},
      {"bad\xff\xfe byte", "bad" + fffd + fffd + " byte"},
      {"overlong \xc0\xaf", "overlong " + fffd + fffd},
      {"overlong \xe0\x80\xaf", "overlong " + fffd + fffd + fffd},
      {"surrogate \xed\xa0\x80", "surrogate " + fffd + fffd + fffd},
      {"beyond \xf4\x90\x80\x80", "beyond " + fffd + fffd + fffd + fffd},
      {"cut \xe2\x82", "cut " + fffd + fffd},
      {"kept \xc2\xa9 \xe2\x82\xac \xf0\x9f\x90\xa2 \xf4\x8f\xbf\xbf",
       "kept \xc2\xa9 \xe2\x82\xac \xf0\x9f\x90\xa2 \xf4\x8f\xbf\xbf"},
  };
  for (const auto& [sent, stored] : cases) {
    BOOST_TEST(pg::is_storable_text(sent) == (sent == stored), sent);
    const pg::Result result = connection.exec_params("SELECT $1::text", {sent});
    BOOST_TEST(result.text(0, 0) == stored, sent);
  }
}

BOOST_AUTO_TEST_CASE(an_empty_string_parameter_is_not_null) {
  pg::Connection connection(test::PgCluster::instance().conninfo());
  const pg::Result result = connection.exec_params("SELECT $1::text IS NULL, $1::text", {pg::Param{""}});
  BOOST_TEST(result.text(0, 0) == "f");
  BOOST_TEST(!result.is_null(0, 1));
}

BOOST_AUTO_TEST_CASE(affected_rows_counts_what_a_statement_changed) {
  const test::PgSchema schema = test::PgCluster::instance().fresh_schema();
  pg::Connection connection(schema.conninfo());
  connection.exec_params("CREATE TABLE t (v text)");
  BOOST_TEST(connection.exec_params("INSERT INTO t VALUES ($1), ($2), ($3)", {"a", "b", "c"}).affected_rows() == 3);
  BOOST_TEST(connection.exec_params("DELETE FROM t WHERE v <> $1", {"a"}).affected_rows() == 2);
}

BOOST_AUTO_TEST_CASE(bad_sql_is_a_clear_error_and_the_connection_stays_usable) {
  pg::Connection connection(test::PgCluster::instance().conninfo());
  const Error error = error_of([&] { connection.exec_params("SELEC 1"); });
  BOOST_TEST(error.code() == ExitCode::software);
  const std::string message = error.what();
  BOOST_TEST(message.find("syntax error") != std::string::npos, message);
  BOOST_TEST(message.find("SQLSTATE 42601") != std::string::npos, message);
  BOOST_TEST(message.find(connection.server()) != std::string::npos, message);
  BOOST_TEST(message.find('\n') == std::string::npos, message);
  BOOST_TEST(connection.exec_params("SELECT 1").text(0, 0) == "1");
}

BOOST_AUTO_TEST_CASE(a_server_that_is_not_there_exits_75_naming_it_and_not_the_password) {
  const test::PgCluster& cluster = test::PgCluster::instance();
  const std::string missing = (cluster.socket_dir() / "no-such-dir").string();
  const Error socket =
      error_of([&] { pg::Connection("host=" + missing + " port=5999 user=oos password=hunter2-secret dbname=queue"); });
  BOOST_TEST(socket.code() == ExitCode::temp_fail);  // try again: the server may be restarting
  const std::string message = socket.what();
  BOOST_TEST(message.find("cannot connect to PostgreSQL at " + missing + ":5999/queue: ") == 0, message);
  BOOST_TEST(message.find("No such file or directory") != std::string::npos, message);
  BOOST_TEST(message.find("try again once the server runs") != std::string::npos, message);
  BOOST_TEST(message.find("hunter2") == std::string::npos, message);
  BOOST_TEST(message.find('\n') == std::string::npos, message);

  // A URL, over TCP, to a loopback port nothing listens on.
  const Error url = error_of([] { pg::Connection("postgresql://oos:hunter2-secret@127.0.0.1:1/queue"); });
  BOOST_TEST(url.code() == ExitCode::temp_fail);
  const std::string url_message = url.what();
  BOOST_TEST(url_message.find("127.0.0.1:1/queue") != std::string::npos, url_message);
  BOOST_TEST(url_message.find("hunter2") == std::string::npos, url_message);
}

// The connect timeout passes once: the attempt that got no answer is not followed by a ping that waits as long
// again (4 s with a 2 s timeout before).
BOOST_AUTO_TEST_CASE(a_server_that_never_answers_is_a_temporary_failure_after_one_connect_timeout) {
  const test::SilentServer silent;
  const auto start = std::chrono::steady_clock::now();
  try {
    pg::Connection connection(silent.conninfo(), std::nullopt, 2);
    BOOST_FAIL("connected to a server that never answers");
  } catch (const TransientDatabaseError& e) {
    BOOST_TEST(std::string(e.what()).find("no answer") != std::string::npos, e.what());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  BOOST_TEST(seconds >= 1.9);
  BOOST_TEST(seconds < 3.5);
}

BOOST_AUTO_TEST_CASE(a_server_that_refuses_us_exits_69_since_trying_again_will_not_help) {
  const test::PgCluster& cluster = test::PgCluster::instance();
  const Error error = error_of(
      [&] { pg::Connection("host=" + cluster.socket_dir().string() + " user=postgres dbname=no_such_database"); });
  BOOST_TEST(error.code() == ExitCode::unavailable, error.what());
  BOOST_TEST(std::string(error.what()).find("no_such_database") != std::string::npos, error.what());
  BOOST_TEST(std::string(error.what()).find("OOS_DATABASE_PASSWORD") != std::string::npos, error.what());
}

BOOST_AUTO_TEST_CASE(an_unparsable_connection_string_exits_78_without_quoting_it) {
  const Error error = error_of([] { pg::Connection("host=db sslmode=require hunter2-secret"); });
  BOOST_TEST(error.code() == ExitCode::config);
  const std::string message = error.what();
  BOOST_TEST(message.find("invalid PostgreSQL connection string") == 0, message);
  BOOST_TEST(message.find("hunter2") == std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(a_transaction_rolls_back_unless_committed) {
  const test::PgSchema schema = test::PgCluster::instance().fresh_schema();
  pg::Connection connection(schema.conninfo());
  connection.exec_params("CREATE TABLE t (v text)");
  {
    pg::Transaction transaction(connection);
    connection.exec_params("INSERT INTO t VALUES ($1)", {"dropped"});
    BOOST_TEST(count_rows(connection, "t") == 1);
  }
  BOOST_TEST(count_rows(connection, "t") == 0);
  BOOST_CHECK_THROW(
      {
        pg::Transaction transaction(connection);
        connection.exec_params("INSERT INTO t VALUES ($1)", {"dropped too"});
        connection.exec_params("SELEC 1");
        transaction.commit();
      },
      Error);
  BOOST_TEST(count_rows(connection, "t") == 0);
  {
    pg::Transaction transaction(connection);
    connection.exec_params("INSERT INTO t VALUES ($1)", {"kept"});
    transaction.commit();
  }
  BOOST_TEST(count_rows(connection, "t") == 1);
}

BOOST_AUTO_TEST_CASE(each_test_schema_is_its_own) {
  test::PgCluster& cluster = test::PgCluster::instance();
  const test::PgSchema first = cluster.fresh_schema();
  const test::PgSchema second = cluster.fresh_schema();
  BOOST_TEST(first.name() != second.name());
  pg::Connection one(first.conninfo());
  pg::Connection two(second.conninfo());
  one.exec_params("CREATE TABLE only_here (v text)");
  BOOST_TEST(one.exec_params("SELECT current_schema()").text(0, 0) == first.name());
  BOOST_TEST(two.exec_params("SELECT to_regclass('only_here') IS NULL").text(0, 0) == "t");
}

BOOST_AUTO_TEST_CASE(a_test_schema_is_dropped_with_its_tables_when_it_goes_out_of_scope) {
  test::PgCluster& cluster = test::PgCluster::instance();
  pg::Connection admin(cluster.conninfo());
  std::string name;
  {
    const test::PgSchema schema = cluster.fresh_schema();
    name = schema.name();
    pg::Connection(schema.conninfo()).exec_params("CREATE TABLE t (v text)");
  }
  BOOST_TEST(admin.exec_params("SELECT count(*) FROM pg_namespace WHERE nspname = $1", {name}).text(0, 0) == "0");
}

BOOST_AUTO_TEST_CASE(a_connection_the_server_ended_is_a_temporary_failure) {
  pg::Connection victim(test::PgCluster::instance().conninfo());
  pg::Connection admin(test::PgCluster::instance().conninfo());
  admin.exec_params("SELECT pg_terminate_backend($1::int)", {std::to_string(victim.backend_pid())});
  const Error error = error_of([&] { victim.exec_params("SELECT 1"); });
  BOOST_TEST(error.code() == ExitCode::temp_fail, error.what());
}

BOOST_AUTO_TEST_CASE(a_lost_connection_is_opened_again_by_the_next_statement) {
  pg::Connection victim(test::PgCluster::instance().conninfo());
  pg::Connection admin(test::PgCluster::instance().conninfo());
  const int first_pid = victim.backend_pid();
  admin.exec_params("SELECT pg_terminate_backend($1::int)", {std::to_string(first_pid)});
  BOOST_TEST(error_of([&] { victim.exec_params("SELECT 1"); }).code() == ExitCode::temp_fail);
  BOOST_TEST(victim.exec_params("SELECT 2").text(0, 0) == "2");
  BOOST_TEST(victim.backend_pid() != first_pid);
}

BOOST_AUTO_TEST_CASE(a_connection_lost_inside_a_transaction_fails_it_and_never_reconnects_into_it) {
  pg::Connection victim(test::PgCluster::instance().conninfo());
  pg::Connection admin(test::PgCluster::instance().conninfo());
  test::PgSchema schema = test::PgCluster::instance().fresh_schema();
  admin.exec_params("CREATE TABLE " + schema.name() + ".t (v int)");
  {
    pg::Transaction tx(victim);
    victim.exec_params("INSERT INTO " + schema.name() + ".t VALUES (1)");
    admin.exec_params("SELECT pg_terminate_backend($1::int)", {std::to_string(victim.backend_pid())});
    // Neither the next statement nor the commit may run on a new connection outside the transaction.
    BOOST_TEST(error_of([&] { victim.exec_params("INSERT INTO " + schema.name() + ".t VALUES (2)"); }).code() ==
               ExitCode::temp_fail);
    BOOST_TEST(error_of([&] { tx.commit(); }).code() == ExitCode::temp_fail);
  }
  BOOST_TEST(count_rows(admin, schema.name() + ".t") == 0);
  pg::Transaction again(victim);  // the next transaction reconnects
  victim.exec_params("INSERT INTO " + schema.name() + ".t VALUES (3)");
  again.commit();
  BOOST_TEST(count_rows(admin, schema.name() + ".t") == 1);
}

BOOST_AUTO_TEST_CASE(statements_and_transactions_work_behind_pgbouncer_in_transaction_mode) {
  test::PgCluster& cluster = test::PgCluster::instance();
  const test::PgSchema schema = cluster.fresh_schema();
  pg::Connection one(cluster.bouncer_conninfo());
  pg::Connection two(cluster.bouncer_conninfo());
  // One server connection serves both clients, statement after statement (a named statement prepared by one
  // client would collide with the other's, or be missing on the next server connection).
  BOOST_TEST(one.exec_params("SELECT pg_backend_pid()").text(0, 0) ==
             two.exec_params("SELECT pg_backend_pid()").text(0, 0));
  const std::string table = schema.name() + ".t";
  one.exec_params("CREATE TABLE " + table + " (v text)");
  const std::string insert = "INSERT INTO " + table + " VALUES ($1)";
  for (int i = 0; i < 20; ++i) {
    one.exec_params(insert, {"one " + std::to_string(i)});
    two.exec_params(insert, {"two " + std::to_string(i)});
  }
  {
    pg::Transaction transaction(one);
    one.exec_params(insert, {"rolled back"});
  }
  {
    pg::Transaction transaction(two);
    two.exec_params(insert, {"committed"});
    transaction.commit();
  }
  BOOST_TEST(count_rows(one, table) == 41);
  BOOST_TEST(one.exec_params("SELECT count(*) FROM " + table + " WHERE v = $1", {"rolled back"}).text(0, 0) == "0");
}

BOOST_AUTO_TEST_CASE(sqlstates_map_to_exit_codes) {
  BOOST_TEST(pg::exit_code_for_sqlstate("") == ExitCode::temp_fail);
  BOOST_TEST(pg::exit_code_for_sqlstate("08006") == ExitCode::temp_fail);  // connection_failure
  BOOST_TEST(pg::exit_code_for_sqlstate("40001") == ExitCode::temp_fail);  // serialization_failure
  BOOST_TEST(pg::exit_code_for_sqlstate("40P01") == ExitCode::temp_fail);  // deadlock_detected
  BOOST_TEST(pg::exit_code_for_sqlstate("55P03") == ExitCode::temp_fail);  // lock_not_available
  BOOST_TEST(pg::exit_code_for_sqlstate("57P01") == ExitCode::temp_fail);  // admin_shutdown
  BOOST_TEST(pg::exit_code_for_sqlstate("53300") == ExitCode::temp_fail);  // too_many_connections
  BOOST_TEST(pg::exit_code_for_sqlstate("53100") == ExitCode::io_error);   // disk_full
  BOOST_TEST(pg::exit_code_for_sqlstate("42601") == ExitCode::software);   // syntax_error
  BOOST_TEST(pg::exit_code_for_sqlstate("23505") == ExitCode::software);   // unique_violation
  BOOST_TEST(pg::exit_code_for_sqlstate("40002") == ExitCode::software);   // integrity violation at commit
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace oos
