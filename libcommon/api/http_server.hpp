// HttpServer: libmicrohttpd serving a listening socket, each request read whole (body capped) into an
// api::Request and answered with the handler's api::Response. libmicrohttpd stays out of this header.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "api/message.hpp"
#include "util/duration.hpp"
#include "util/fd.hpp"

namespace oos::api {

// The limits of docs/reference.md (HTTP API, [api] keys).
struct ServerSettings {
  std::uint64_t max_body = 1ull << 20;          // a larger body is refused with 413
  unsigned max_connections = 64;                // connections beyond are closed at once
  std::chrono::seconds connection_timeout{30};  // an idle connection is closed after this
  unsigned max_connections_per_ip = 16;         // connections from one address beyond are closed at once
  std::optional<util::Millis> idle_exit;  // quiesce_if_idle() after this long without a connection; nullopt: never
};

// What answers a request. Called from libmicrohttpd's one polling thread, one request at a time.
using Handler = std::function<Response(const Request&)>;

// Serves from construction to destruction. One internal polling thread (so the handler is never called
// concurrently) and an inter-thread channel instead of shutdown(2) on the socket, as systemd-journal-gatewayd.
class HttpServer {
 public:
  // Serves `listener` (a socket in the listening state, which the server takes). Throws oos::Error (69) when
  // libmicrohttpd cannot start.
  HttpServer(util::Fd listener, ServerSettings settings, Handler handler);
  // Stops: waits for the request being answered, closes the connections and the socket (after
  // quiesce_if_idle(), the socket is only closed, never shut down: systemd holds it and passes it again).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // How long to wait before quiesce_if_idle() can first succeed (IdleClock::next_check); nullopt without an
  // idle exit.
  std::optional<util::Millis> idle_check_in() const;
  // When idle_exit has passed with no connection open: stops accepting (MHD_quiesce_daemon; new connections wait
  // in the socket's queue for the next start), waits up to connection_timeout for a connection accepted just
  // before to close, and returns true: the caller then destroys the server and exits. False otherwise, and
  // always without an idle exit.
  bool quiesce_if_idle();

  struct State;

 private:
  std::unique_ptr<State> m_state;
};

}  // namespace oos::api
