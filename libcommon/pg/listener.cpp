#include "pg/listener.hpp"

#include <poll.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <random>
#include <utility>

#include "store/backend.hpp"

namespace oos::pg {

namespace {

// A channel of this Listener's own, for its probe: nobody else notifies it.
std::string probe_channel() {
  std::random_device random;
  return fmt::format("oos_probe_{}_{}", ::getpid(), random());
}

// Whether a notification on `probe` arrives at `connection` within `timeout`.
bool heard(Connection& connection, const std::string& probe, util::Millis timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (auto now = std::chrono::steady_clock::now(); now < until; now = std::chrono::steady_clock::now()) {
    if (connection.take_notifications(probe) > 0) return true;
    pollfd fd{connection.socket(), POLLIN, 0};
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - now);
    if (fd.fd < 0 || (::poll(&fd, 1, static_cast<int>(left.count())) < 0 && errno != EINTR)) return false;
  }
  return connection.take_notifications(probe) > 0;
}

}  // namespace

Listener::Listener(const std::string& conninfo, const std::optional<std::string>& password, const std::string& channel,
                   util::Millis probe_timeout)
    : m_connection(conninfo, password, k_listen_connect_timeout_s) {
  // A NOTIFY from another connection must reach this one. Behind a PgBouncer in transaction mode an idle client holds
  // no server connection: LISTEN would succeed and nothing would ever arrive.
  const std::string probe = probe_channel();
  m_connection.exec_params("LISTEN " + probe);
  Connection(conninfo, password, k_listen_connect_timeout_s).exec_params("SELECT pg_notify($1, '')", {Param{probe}});
  const bool reached = heard(m_connection, probe, probe_timeout);
  m_connection.exec_params("UNLISTEN " + probe);
  if (!reached)
    throw NoSessionError(fmt::format(
        "a NOTIFY from another connection did not reach a LISTEN at {} within {}: no session of its own (a PgBouncer "
        "in transaction mode?)",
        m_connection.server(), util::format_duration(probe_timeout)));
  m_connection.exec_params("LISTEN " + channel);
}

Listener::Wake Listener::wait(util::Millis timeout) {
  try {
    if (m_connection.take_notifications() > 0) return Wake::notified;
    pollfd fd{m_connection.socket(), POLLIN, 0};
    if (fd.fd < 0) return Wake::lost;
    const int ready = ::poll(&fd, 1, static_cast<int>(timeout.count()));
    if (ready == 0 || (ready < 0 && errno == EINTR)) return Wake::timeout;
    if (ready < 0) return Wake::lost;
    // Readable: a notification, or the end of the connection (take_notifications throws).
    return m_connection.take_notifications() > 0 ? Wake::notified : Wake::timeout;
  } catch (const TransientDatabaseError&) {
    return Wake::lost;
  }
}

WorkWaiter::WorkWaiter(std::string conninfo, std::optional<std::string> password, WaitOptions options,
                       log::Logger& logger)
    : m_conninfo(std::move(conninfo)), m_password(std::move(password)), m_options(options), m_logger(logger) {}

WorkWaiter::~WorkWaiter() = default;

bool WorkWaiter::listen_if_due(double now) {
  if (m_no_session || now < m_retry_at) return false;
  const std::string polling = "polling every " + util::format_duration(m_options.poll_interval);
  try {
    m_listener = std::make_unique<Listener>(m_conninfo, m_password, k_tasks_channel);
  } catch (const NoSessionError& e) {
    // A pooler's mode does not change while we run: trying again would cost a probe every relisten_after.
    m_logger.warn(fmt::format("waiting for work by {} ({}; set db.listen = false behind a transaction-pooling "
                              "PgBouncer)",
                              polling, e.what()),
                  {{"wake", "poll"}});
    m_logged_mode = true;
    m_no_session = true;
    return false;
  } catch (const Error& e) {
    m_retry_at = now + static_cast<double>(m_options.relisten_after.count()) / 1000.0;
    if (!m_logged_mode)
      m_logger.info(fmt::format("waiting for work by {} (cannot LISTEN: {}; trying again every {})", polling, e.what(),
                                util::format_duration(m_options.relisten_after)),
                    {{"wake", "poll"}});
    m_logged_mode = true;
    m_lost = true;
    return false;
  }
  if (!m_logged_mode || m_lost)
    m_logger.info(fmt::format("waiting for work by LISTEN on '{}' at {}{}, and {} as a fallback", k_tasks_channel,
                              m_listener->server(), m_lost && m_logged_mode ? " again" : "", polling),
                  {{"wake", "listen"}});
  m_logged_mode = true;
  m_lost = false;
  return true;
}

bool WorkWaiter::wait(const util::Clock& clock, util::Millis timeout, const volatile std::sig_atomic_t& stop) {
  if (!m_options.listen) {
    if (!m_logged_mode)
      m_logger.info(fmt::format("waiting for work by polling every {} (db.listen = false)",
                                util::format_duration(m_options.poll_interval)),
                    {{"wake", "poll"}});
    m_logged_mode = true;
    store::sleep_unless_stopped(clock, timeout, stop);
    return false;
  }
  // A LISTEN just opened may have missed what was enqueued before it: the caller steps once more.
  if (!m_listener && listen_if_due(clock.monotonic())) return true;
  if (!m_listener) {
    store::sleep_unless_stopped(clock, timeout, stop);
    return false;
  }
  const double until = clock.monotonic() + static_cast<double>(timeout.count()) / 1000.0;
  for (double now = clock.monotonic(); !stop && now < until; now = clock.monotonic()) {
    const auto slice = util::Millis(static_cast<std::int64_t>(std::ceil(std::min(100.0, (until - now) * 1000.0))));
    switch (m_listener->wait(slice)) {
      case Listener::Wake::notified: return true;
      case Listener::Wake::timeout: break;
      case Listener::Wake::lost:
        m_logger.warn(fmt::format("lost the LISTEN connection to PostgreSQL at {}; polling every {} until it is back",
                                  m_listener->server(), util::format_duration(m_options.poll_interval)),
                      {{"wake", "poll"}});
        m_listener.reset();
        m_lost = true;
        m_retry_at = now + static_cast<double>(m_options.relisten_after.count()) / 1000.0;
        store::sleep_unless_stopped(clock, util::Millis(static_cast<std::int64_t>((until - now) * 1000.0)), stop);
        return false;
    }
  }
  return false;
}

}  // namespace oos::pg
