// Waking an idle worker when work arrives (docs/reference.md section 19): a Listener is a second, direct
// connection that LISTENs on the channel the task store NOTIFYs (k_tasks_channel) when it makes a task runnable
// now; a WorkWaiter is the idle wait built on it, which falls back to polling when it cannot LISTEN (db.listen =
// false, a lost connection, a server refusing us) and tries again later. A worker holds at most two connections:
// its store's and this one (and for a moment, while a Listener opens, a third that sends its probe).
#pragma once

#include <csignal>
#include <memory>
#include <optional>
#include <string>

#include "log.hpp"
#include "pg/connection.hpp"
#include "util/duration.hpp"
#include "util/time.hpp"

namespace oos::pg {

// The channel the task store notifies (payload: the queue, or the queues of a batch) and listeners listen on.
inline constexpr const char* k_tasks_channel = "oos_tasks";

// How long opening the listening connection may take, in seconds (libpq's floor): a worker that tries to LISTEN
// again waits this long, not the 10 s of the other connections, before it goes on with its idle loop (heartbeat,
// watchdog, stop) when the server does not answer. The URL's connect_timeout still wins.
inline constexpr int k_listen_connect_timeout_s = 2;

// A connection that has no session of its own to LISTEN on: a notification sent by another connection did not reach
// it (a PgBouncer in transaction mode, where an idle client holds no server connection).
class NoSessionError : public Error {
 public:
  explicit NoSessionError(const std::string& message) : Error(ExitCode::unavailable, message) {}
};

// One connection that LISTENs on a channel. It needs a session of its own: behind a transaction-pooling PgBouncer
// LISTEN "succeeds" on whichever server connection ran it, and no notification ever reaches the client.
class Listener {
 public:
  // What wait() saw.
  enum class Wake { notified, timeout, lost };

  // How long a Listener waits for its probe (a notification sent by a second connection) before it concludes that
  // it has no session of its own.
  static constexpr util::Millis k_probe_timeout{2000};

  // Connects, checks that a NOTIFY from a second, short connection reaches it within `probe_timeout` (else
  // NoSessionError, before it LISTENs on `channel`: a pooled server connection is left listening on nothing but a
  // probe channel nobody notifies again), then runs LISTEN `channel` (a plain identifier). Throws oos::Error like
  // Connection and exec_params(): 69 unreachable, 78 a bad connection string, 75 a transient failure.
  Listener(const std::string& conninfo, const std::optional<std::string>& password, const std::string& channel,
           util::Millis probe_timeout = k_probe_timeout);

  // Waits up to `timeout` for a notification and drains all that are pending: notified at once when some
  // arrived since the last wait (none is lost while the caller works). lost: the connection is gone; the
  // Listener is then of no further use.
  Wake wait(util::Millis timeout);
  // The server process of the listening connection (a test terminates it).
  int backend_pid() const { return m_connection.backend_pid(); }
  const std::string& server() const { return m_connection.server(); }

 private:
  Connection m_connection;
};

// How a WorkWaiter waits.
struct WaitOptions {
  bool listen = true;                   // db.listen: false never opens the second connection
  util::Millis poll_interval{1000};     // worker.poll_interval, named in the log line
  util::Millis relisten_after{10'000};  // after a failed or lost LISTEN, the next try
};

// The idle wait of a worker on PostgreSQL: LISTEN when it can, else a plain sleep (the caller polls). The
// Listener is opened on the first wait; one info line says which mode runs, one warning when LISTEN is lost,
// one info line when it is back. A URL without a session to LISTEN on (NoSessionError) means polling for good, with
// one warning naming db.listen = false. Never throws for the second connection: its failures mean polling.
class WorkWaiter {
 public:
  // Keeps references to `logger`; `conninfo` and `password` are copied for the reconnections.
  WorkWaiter(std::string conninfo, std::optional<std::string> password, WaitOptions options, log::Logger& logger);
  ~WorkWaiter();

  // Waits up to `timeout` (or until `stop` is set, checked every 100 ms): true when a notification (or a LISTEN
  // just opened, which may have missed some) says a step may find work, false after the timeout.
  bool wait(const util::Clock& clock, util::Millis timeout, const volatile std::sig_atomic_t& stop);
  // Whether the last wait listened (false: polling).
  bool listening() const { return m_listener != nullptr; }
  // The listening connection's server process, or 0 (tests).
  int listener_pid() const { return m_listener ? m_listener->backend_pid() : 0; }

 private:
  // Opens the Listener when it is due (first wait, or relisten_after since the last failure): true if it opened.
  bool listen_if_due(double now);

  std::string m_conninfo;
  std::optional<std::string> m_password;
  WaitOptions m_options;
  log::Logger& m_logger;
  std::unique_ptr<Listener> m_listener;
  double m_retry_at = -1e300;  // monotonic seconds: when the next LISTEN may be tried
  bool m_logged_mode = false;  // the info line saying which mode runs
  bool m_lost = false;         // polling since a LISTEN was lost or refused: the next success is logged
  bool m_no_session = false;   // LISTEN cannot work on this URL (NoSessionError): polling for good
};

}  // namespace oos::pg
