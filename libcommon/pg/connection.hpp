// Thin RAII handles over libpq: a connection, a result, one statement with bound text parameters, and a
// transaction that rolls back unless committed. Statements are unnamed (PQexecParams), so a
// transaction-pooling PgBouncer in front of the server works. libpq's own header stays in connection.cpp.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"

struct pg_conn;
struct pg_result;

namespace oos::pg {

// One bound parameter, sent as text: nullopt is SQL NULL.
using Param = std::optional<std::string>;

// What a statement returned: owns its PGresult. Values are text; row and column are 0-based and must
// be in range.
class Result {
 public:
  explicit Result(pg_result* result);
  int rows() const;
  int columns() const;
  bool is_null(int row, int column) const;
  // The value as text; empty for NULL (ask is_null()).
  std::string_view text(int row, int column) const;
  // The value, or nullopt for NULL.
  std::optional<std::string> value(int row, int column) const;
  // Rows an INSERT, UPDATE, DELETE (or SELECT) touched; 0 for other commands.
  long affected_rows() const;

 private:
  struct Free {
    void operator()(pg_result* result) const;
  };
  std::unique_ptr<pg_result, Free> m_result;
};

// One connection to a server. Throws oos::Error: 78 (config) for a connection string libpq cannot parse,
// TransientDatabaseError (75) when the server does not answer or is starting up or shutting down, 69
// (unavailable) when it answers but refuses us (password, role, database, pg_hba.conf). Messages name the
// server (host:port/database) and the cause, never the connection string (it may hold a password).
class Connection {
 public:
  // `conninfo`: "key=value ..." or a postgresql:// URL. A connect timeout of `connect_timeout_s` seconds (at
  // least 2: libpq's floor) applies unless it sets connect_timeout. `password`, when given, overrides any in
  // `conninfo` (the secret OOS_DATABASE_PASSWORD).
  explicit Connection(const std::string& conninfo, const std::optional<std::string>& password = std::nullopt,
                      int connect_timeout_s = 10);
  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;
  ~Connection();

  // Runs one statement with `params` bound as $1, $2, ... (text, never interpolated into the SQL), as an
  // unnamed statement. Throws oos::Error with the code of exit_code_for_sqlstate() and a message naming
  // the server, the server's message and the SQLSTATE. A connection found lost (the server restarted) is
  // opened again first when no Transaction is open on it; inside one, the statement fails with 75 (the
  // server ended the transaction) and the next transaction reconnects.
  Result exec_params(std::string_view sql, const std::vector<Param>& params = {});

  // The server as messages name it: host:port/database (host may be a socket directory).
  const std::string& server() const { return m_server; }
  // The server process serving this connection (pg_backend_pid()).
  int backend_pid() const;
  // The connection's socket, for poll(2); -1 when it has none.
  int socket() const;
  // Reads, without blocking, what the server sent and drops the notifications (LISTEN) it held: how many (those on
  // `channel` only, when one is named). Throws TransientDatabaseError, naming the server, when the connection is lost.
  int take_notifications(std::string_view channel = {});

 private:
  struct Finish {
    void operator()(pg_conn* conn) const;
  };
  friend class Transaction;
  // Opens the connection again if it was lost and no transaction is open; throws 75 when that fails.
  void reconnect_if_lost();

  std::unique_ptr<pg_conn, Finish> m_conn;
  std::string m_server;
  int m_open_transactions = 0;  // Transactions open on this connection, nested ones counted
};

// A transaction on `connection`: BEGIN now, ROLLBACK when destroyed without commit() (never throws). Inside another
// Transaction on the same connection it is a SAVEPOINT: commit() releases it into the outer transaction, which alone
// commits; destroyed without commit(), only its own statements are undone (as db::WriteTransaction nests on SQLite).
class Transaction {
 public:
  explicit Transaction(Connection& connection);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  // COMMIT (a nested one: RELEASE SAVEPOINT); throws like exec_params() (the transaction is over either way).
  void commit();

 private:
  Connection& m_connection;
  std::string m_savepoint;  // empty for the outermost transaction
  bool m_open = true;
};

// The exit code a failed statement maps to, from its SQLSTATE: a lost connection, serialization failure,
// deadlock, lock timeout, server shutting down or out of resources -> 75 (try again); disk full -> 74;
// anything else (a bug in our SQL, a constraint) -> 70. An empty SQLSTATE (no answer) -> 75.
ExitCode exit_code_for_sqlstate(std::string_view sqlstate);

}  // namespace oos::pg
