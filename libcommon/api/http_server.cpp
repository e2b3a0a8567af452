#include "api/http_server.hpp"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <string>

#include "api/idle.hpp"
#include "api/problem.hpp"
#include "error.hpp"

namespace oos::api {

struct HttpServer::State {
  ServerSettings settings;
  Handler handler;
  MHD_Daemon* daemon = nullptr;
  util::Fd quiesced;  // the socket after MHD_quiesce_daemon: ours to close (never shut down) after the daemon stops
  // The open connections, counted on libmicrohttpd's thread, read by the one that waits for the idle exit.
  mutable std::mutex mutex;
  std::condition_variable closed;
  std::optional<IdleClock> idle;
};

namespace {

util::Millis monotonic_now() {
  return std::chrono::duration_cast<util::Millis>(std::chrono::steady_clock::now().time_since_epoch());
}

// What one request has sent so far: its body up to the cap.
struct Upload {
  std::string body;
  bool too_large = false;
};

MHD_Result collect(void* cls, MHD_ValueKind, const char* key, const char* value) {
  auto& map = *static_cast<std::map<std::string, std::string>*>(cls);
  std::string name(key);
  map[name] = value ? value : "";
  return MHD_YES;
}

std::map<std::string, std::string> values(MHD_Connection* connection, MHD_ValueKind kind, bool lower_case) {
  std::map<std::string, std::string> raw;
  MHD_get_connection_values(connection, kind, &collect, &raw);
  if (!lower_case) return raw;
  std::map<std::string, std::string> out;
  for (auto& [name, value] : raw) {
    std::string lower = name;
    std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out[lower] = std::move(value);
  }
  return out;
}

bool peer_loopback(MHD_Connection* connection) {
  const auto* info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  if (!info || !info->client_addr) return false;
  const sockaddr* address = info->client_addr;
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr)) return true;
    return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127;
  }
  return false;
}

MHD_Result send(MHD_Connection* connection, const Response& reply) {
  auto* response =
      MHD_create_response_from_buffer(reply.body.size(), const_cast<char*>(reply.body.data()), MHD_RESPMEM_MUST_COPY);
  if (!response) return MHD_NO;
  for (const auto& [name, value] : reply.headers) MHD_add_response_header(response, name.c_str(), value.c_str());
  auto result = MHD_queue_response(connection, static_cast<unsigned>(reply.status), response);
  MHD_destroy_response(response);
  return result;
}

Response too_large(std::uint64_t max_body) {
  auto reply = problem(413, "the request body is larger than api.max_body (" + std::to_string(max_body) +
                                " bytes): send a smaller body, or an array split in parts");
  add_security_headers(reply);
  return reply;
}

MHD_Result answer(void* cls, MHD_Connection* connection, const char* url, const char* method, const char*,
                  const char* upload_data, size_t* upload_data_size, void** request_state) {
  auto& state = *static_cast<HttpServer::State*>(cls);
  auto* upload = static_cast<Upload*>(*request_state);
  if (!upload) {
    // The first call, headers only: refuse a declared length over the cap before reading any of it.
    const char* length = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (length) {
      std::uint64_t declared = 0;
      std::string_view text(length);
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), declared);
      if (ec != std::errc() || declared > state.settings.max_body)
        return send(connection, too_large(state.settings.max_body));
    }
    *request_state = new Upload;
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    // A chunked body has no length to check up front: keep at most the cap, answer 413 at its end.
    if (!upload->too_large && upload->body.size() + *upload_data_size <= state.settings.max_body)
      upload->body.append(upload_data, *upload_data_size);
    else
      upload->too_large = true;
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (upload->too_large) return send(connection, too_large(state.settings.max_body));
  Request request{method,
                  url,
                  values(connection, MHD_GET_ARGUMENT_KIND, false),
                  values(connection, MHD_HEADER_KIND, true),
                  std::move(upload->body),
                  peer_loopback(connection)};
  return send(connection, state.handler(request));
}

void completed(void*, MHD_Connection*, void** request_state, MHD_RequestTerminationCode) {
  delete static_cast<Upload*>(*request_state);
  *request_state = nullptr;
}

void connection_changed(void* cls, MHD_Connection*, void**, MHD_ConnectionNotificationCode code) {
  auto& state = *static_cast<HttpServer::State*>(cls);
  std::lock_guard lock(state.mutex);
  if (!state.idle) return;
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    state.idle->opened();
  } else {
    state.idle->closed(monotonic_now());
    state.closed.notify_all();
  }
}

}  // namespace

HttpServer::HttpServer(util::Fd listener, ServerSettings settings, Handler handler)
    : m_state(std::make_unique<State>()) {
  m_state->settings = settings;
  m_state->handler = std::move(handler);
  if (settings.idle_exit) m_state->idle.emplace(*settings.idle_exit, monotonic_now());
  // MHD_USE_ITC: stopping wakes the polling thread through a pipe, never shutdown(2) on a socket that systemd
  // passed and will pass again.
  m_state->daemon = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, nullptr, nullptr, &answer,
      m_state.get(), MHD_OPTION_LISTEN_SOCKET, listener.get(), MHD_OPTION_CONNECTION_LIMIT,
      m_state->settings.max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, m_state->settings.max_connections_per_ip,
      MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(m_state->settings.connection_timeout.count()),
      MHD_OPTION_NOTIFY_COMPLETED, &completed, nullptr, MHD_OPTION_NOTIFY_CONNECTION, &connection_changed,
      m_state.get(), MHD_OPTION_END);
  if (!m_state->daemon) throw Error(ExitCode::unavailable, "the HTTP server (libmicrohttpd) could not start");
  (void)listener.release();  // libmicrohttpd closes it when it stops
}

HttpServer::~HttpServer() {
  if (m_state && m_state->daemon) MHD_stop_daemon(m_state->daemon);
  // Only now: libmicrohttpd's thread may use the quiesced socket until it has stopped.
  if (m_state) m_state->quiesced.reset();
}

std::optional<util::Millis> HttpServer::idle_check_in() const {
  std::lock_guard lock(m_state->mutex);
  if (!m_state->idle) return std::nullopt;
  return m_state->idle->next_check(monotonic_now());
}

bool HttpServer::quiesce_if_idle() {
  {
    std::lock_guard lock(m_state->mutex);
    if (!m_state->idle || !m_state->idle->expired(monotonic_now())) return false;
  }
  // Not under the lock: libmicrohttpd's thread may be counting a connection it has just accepted.
  MHD_socket listener = MHD_quiesce_daemon(m_state->daemon);
  if (listener != MHD_INVALID_SOCKET) m_state->quiesced = util::Fd(listener);
  std::unique_lock lock(m_state->mutex);
  m_state->closed.wait_for(lock, m_state->settings.connection_timeout, [&] { return m_state->idle->open() == 0; });
  return true;
}

}  // namespace oos::api
