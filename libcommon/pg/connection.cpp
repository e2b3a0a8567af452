#include "pg/connection.hpp"

#include <libpq-fe.h>

#include <array>
#include <charconv>
#include <chrono>
#include <string>
#include <vector>

#include "pg/values.hpp"

namespace oos::pg {

namespace {

// libpq's messages may span lines ("...failed: ...\n\tIs the server running...?"): one line, spaces collapsed.
std::string one_line(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const bool space = c == '\n' || c == '\t' || c == '\r' || c == ' ';
    if (space) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// A parse error of libpq quotes the fragment it stumbled on, which may be a password: quoted text dropped.
std::string without_quoted(std::string_view text) {
  std::string out;
  bool quoted = false;
  for (const char c : text) {
    if (c == '"') {
      if (!quoted) out += "\"...\"";
      quoted = !quoted;
    } else if (!quoted) {
      out += c;
    }
  }
  return one_line(out);
}

std::string or_empty(const char* text) {
  return text ? text : "";
}

// host:port/database of a connection, even a failed one (libpq fills in its defaults).
std::string describe(const PGconn* conn) {
  std::string host = or_empty(PQhost(conn));
  if (host.empty()) host = "localhost";
  std::string port = or_empty(PQport(conn));
  if (port.empty()) port = "5432";
  return host + ":" + port + "/" + or_empty(PQdb(conn));
}

// Notices (e.g. "schema ... does not exist, skipping") are not our output: libpq would print them to stderr.
void ignore_notice(void*, const char*) {}

}  // namespace

Result::Result(pg_result* result) : m_result(result) {}

void Result::Free::operator()(pg_result* result) const {
  PQclear(result);
}

int Result::rows() const {
  return PQntuples(m_result.get());
}

int Result::columns() const {
  return PQnfields(m_result.get());
}

bool Result::is_null(int row, int column) const {
  return PQgetisnull(m_result.get(), row, column) == 1;
}

std::string_view Result::text(int row, int column) const {
  return {PQgetvalue(m_result.get(), row, column), static_cast<std::size_t>(PQgetlength(m_result.get(), row, column))};
}

std::optional<std::string> Result::value(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return std::string(text(row, column));
}

long Result::affected_rows() const {
  const std::string_view tuples = PQcmdTuples(m_result.get());
  long count = 0;
  std::from_chars(tuples.data(), tuples.data() + tuples.size(), count);
  return count;
}

void Connection::Finish::operator()(pg_conn* conn) const {
  PQfinish(conn);
}

Connection::Connection(const std::string& conninfo, const std::optional<std::string>& password, int connect_timeout_s) {
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (!options) {
    const std::string cause = parse_error ? without_quoted(parse_error) : "out of memory";
    PQfreemem(parse_error);
    throw Error(ExitCode::config, "invalid PostgreSQL connection string: " + cause);
  }
  PQconninfoFree(options);

  // dbname is expanded from the whole string; what the string sets overrides the keywords before it, and the
  // password after it overrides the string's.
  const std::array<const char*, 5> keywords{"connect_timeout", "fallback_application_name", "dbname",
                                            password ? "password" : nullptr, nullptr};
  const std::string timeout = std::to_string(connect_timeout_s);
  const std::array<const char*, 5> values{timeout.c_str(), "oos", conninfo.c_str(),
                                          password ? password->c_str() : nullptr, nullptr};
  const auto started = std::chrono::steady_clock::now();
  m_conn.reset(PQconnectdbParams(keywords.data(), values.data(), 1));
  if (!m_conn) throw Error(ExitCode::unavailable, "cannot connect to PostgreSQL: out of memory");
  m_server = describe(m_conn.get());
  if (PQstatus(m_conn.get()) != CONNECTION_OK) {
    const std::string message =
        "cannot connect to PostgreSQL at " + m_server + ": " + one_line(PQerrorMessage(m_conn.get()));
    // Whether to try again: PQping asks the server itself, in any locale. No answer, or a server starting up or
    // shutting down, is temporary (75); a server that accepts connections refused ours (password, role,
    // database, pg_hba.conf): 69, since trying again will not help. An attempt that took the whole connect timeout
    // got no answer: a ping would wait as long again for the same silence.
    const bool timed_out = std::chrono::steady_clock::now() - started >= std::chrono::seconds(connect_timeout_s);
    if (!timed_out && PQpingParams(keywords.data(), values.data(), 1) == PQPING_OK)
      throw Error(ExitCode::unavailable, message +
                                             " (the server refused us: check the user and database in db.url or "
                                             "OOS_DATABASE_URL, the secret OOS_DATABASE_PASSWORD and pg_hba.conf)");
    throw TransientDatabaseError(message +
                                 " (no answer: try again once the server runs; db.url or OOS_DATABASE_URL "
                                 "names it)");
  }
  PQsetNoticeProcessor(m_conn.get(), ignore_notice, nullptr);
}

Connection::~Connection() = default;

void Connection::reconnect_if_lost() {
  if (PQstatus(m_conn.get()) == CONNECTION_OK) return;
  if (m_open_transactions > 0)
    throw TransientDatabaseError("lost the connection to PostgreSQL at " + m_server + " in a transaction");
  PQreset(m_conn.get());
  if (PQstatus(m_conn.get()) != CONNECTION_OK)
    throw TransientDatabaseError("cannot connect to PostgreSQL at " + m_server + ": " +
                                 one_line(PQerrorMessage(m_conn.get())));
  PQsetNoticeProcessor(m_conn.get(), ignore_notice, nullptr);
}

Result Connection::exec_params(std::string_view sql, const std::vector<Param>& params) {
  reconnect_if_lost();
  std::vector<const char*> values;
  values.reserve(params.size());
  // A value text cannot hold (a NUL would cut it short here, a byte that is not UTF-8 fail the statement) is sent as
  // storable_text(): reserved, so that the pointers into it stay valid.
  std::vector<std::string> storable;
  storable.reserve(params.size());
  for (const Param& param : params) {
    if (!param) {
      values.push_back(nullptr);
    } else if (is_storable_text(*param)) {
      values.push_back(param->c_str());
    } else {
      storable.push_back(storable_text(*param));
      values.push_back(storable.back().c_str());
    }
  }
  const std::string statement(sql);
  PGresult* raw = PQexecParams(m_conn.get(), statement.c_str(), static_cast<int>(params.size()), nullptr, values.data(),
                               nullptr, nullptr, 0);
  Result result(raw);
  // A null PGresult (out of memory, no connection) reads as PGRES_FATAL_ERROR.
  const ExecStatusType status = PQresultStatus(raw);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) return result;
  const std::string sqlstate = raw ? or_empty(PQresultErrorField(raw, PG_DIAG_SQLSTATE)) : "";
  std::string cause = raw ? or_empty(PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY)) : "";
  if (cause.empty()) cause = one_line(PQerrorMessage(m_conn.get()));
  if (cause.empty()) cause = PQresStatus(status);
  std::string message =
      "PostgreSQL at " + m_server + ": " + cause + (sqlstate.empty() ? "" : " (SQLSTATE " + sqlstate + ")");
  const ExitCode code = exit_code_for_sqlstate(sqlstate);
  if (code == ExitCode::temp_fail) throw TransientDatabaseError(message);
  throw Error(code, message);
}

int Connection::backend_pid() const {
  return PQbackendPID(m_conn.get());
}

int Connection::socket() const {
  return PQsocket(m_conn.get());
}

int Connection::take_notifications(std::string_view channel) {
  if (PQconsumeInput(m_conn.get()) == 0 || PQstatus(m_conn.get()) != CONNECTION_OK)
    throw TransientDatabaseError("lost the connection to PostgreSQL at " + m_server + ": " +
                                 one_line(PQerrorMessage(m_conn.get())));
  int count = 0;
  while (PGnotify* notify = PQnotifies(m_conn.get())) {
    if (channel.empty() || channel == notify->relname) ++count;
    PQfreemem(notify);
  }
  return count;
}

Transaction::Transaction(Connection& connection) : m_connection(connection) {
  if (m_connection.m_open_transactions > 0) {
    m_savepoint = "oos_nested_" + std::to_string(m_connection.m_open_transactions);
    m_connection.exec_params("SAVEPOINT " + m_savepoint);
  } else {
    m_connection.exec_params("BEGIN");
  }
  ++m_connection.m_open_transactions;
}

Transaction::~Transaction() {
  if (!m_open) return;
  --m_connection.m_open_transactions;
  if (PQstatus(m_connection.m_conn.get()) != CONNECTION_OK) return;  // the server ended it with the connection
  try {
    if (m_savepoint.empty()) {
      m_connection.exec_params("ROLLBACK");
    } else {
      m_connection.exec_params("ROLLBACK TO SAVEPOINT " + m_savepoint);
      m_connection.exec_params("RELEASE SAVEPOINT " + m_savepoint);
    }
  } catch (...) {
    // The connection is gone or broken: the server ends the transaction itself.
  }
}

void Transaction::commit() {
  m_open = false;
  // Counted open while COMMIT runs: a connection lost now must fail the commit, not reconnect and run COMMIT
  // outside any transaction (which PostgreSQL answers with a mere warning).
  struct Closed {
    int& open;
    ~Closed() { --open; }
  } closed{m_connection.m_open_transactions};
  m_connection.exec_params(m_savepoint.empty() ? "COMMIT" : "RELEASE SAVEPOINT " + m_savepoint);
}

ExitCode exit_code_for_sqlstate(std::string_view sqlstate) {
  if (sqlstate.empty()) return ExitCode::temp_fail;
  if (sqlstate == "53100") return ExitCode::io_error;  // disk_full
  for (const std::string_view retry : {"08", "53", "57P", "40001", "40P01", "55P03"}) {
    if (sqlstate.starts_with(retry)) return ExitCode::temp_fail;
  }
  return ExitCode::software;
}

}  // namespace oos::pg
