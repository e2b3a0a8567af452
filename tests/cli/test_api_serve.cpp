// oos-api on a socket passed as systemd passes it (systemd-socket-activate): the first request is served, the
// process exits 0 after api.idle_exit without a connection, an open keep-alive connection keeps it; with
// --listen it never exits idle; api.max_connections_per_ip closes the connections from one address beyond it;
// SIGTERM stops it while it waits for the idle exit.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "cli/api_support.hpp"
#include "util/fd.hpp"

using oos::test::ApiFixture;
using oos::test::BackgroundProcess;
using oos::test::eventually;
using oos::test::http;
using oos::test::scaled;
using namespace std::chrono_literals;

namespace {

// A loopback port free at the time of the call (bound to port 0, then closed).
int free_port() {
  oos::util::Fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw std::runtime_error("no free port");
  return ntohs(address.sin_port);
}

// One TCP connection to 127.0.0.1:port, spoken to by hand so that the test decides when it closes.
class Connection {
 public:
  explicit Connection(int port) : m_fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(m_fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      throw std::runtime_error("cannot connect to port " + std::to_string(port));
  }

  // Sends a keep-alive GET of `path` and reads the reply: its status line and headers, or "" when the server
  // closed the connection (or reset it) without one, or nothing came within `timeout`.
  std::string get(const std::string& path, std::chrono::milliseconds timeout = scaled(5s)) {
    std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(m_fd.get(), request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
      return "";
    std::string reply;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (reply.find("\r\n\r\n") == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{m_fd.get(), POLLIN, 0};
      if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) return "";
      char buffer[4096];
      auto got = recv(m_fd.get(), buffer, sizeof buffer, 0);
      if (got <= 0) return "";
      reply.append(buffer, static_cast<std::size_t>(got));
    }
    // The body is short (a status document): it came with the headers or comes at once; drain it.
    std::this_thread::sleep_for(50ms);
    char buffer[65536];
    while (recv(m_fd.get(), buffer, sizeof buffer, MSG_DONTWAIT) > 0) {
    }
    return reply.substr(0, reply.find("\r\n\r\n"));
  }
  void close() { m_fd.reset(); }

 private:
  oos::util::Fd m_fd;
};

struct ServeFixture : ApiFixture {
  int port = 0;

  // Starts (as `api`) oos-api under `systemd-socket-activate -l 127.0.0.1:PORT`, which listens, waits for a first
  // connection, then execs oos-api with the socket (LISTEN_FDS=1), as systemd does for oos-api.socket.
  void start_activated() {
    port = free_port();
    std::vector<std::string> argv{"systemd-socket-activate", "-l", "127.0.0.1:" + std::to_string(port)};
    auto tool = tool_argv("OOS_API_BIN", state_dir(), {});
    argv.insert(argv.end(), tool.begin(), tool.end());
    api = std::make_unique<BackgroundProcess>(argv, oos::test::test_environment());
    BOOST_REQUIRE_MESSAGE(
        eventually([&] { return api->err().find("Listening on") != std::string::npos; }, scaled(10s), {api.get()}),
        "systemd-socket-activate did not listen: " << api->err());
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port) + path; }
};

// The line of `log` that contains `text`; "" when none does.
std::string log_line(const std::string& log, const std::string& text) {
  auto at = log.find(text);
  if (at == std::string::npos) return "";
  auto start = log.rfind('\n', at);
  start = start == std::string::npos ? 0 : start + 1;
  return log.substr(start, log.find('\n', at) - start);
}

bool still_running(BackgroundProcess& process) {
  return process.wait(0ms) == -1;
}

// Lets `duration` pass while pumping the process's output.
void pass(BackgroundProcess& process, std::chrono::milliseconds duration) {
  auto end = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < end && !process.pump(20)) {
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_serve)

BOOST_FIXTURE_TEST_CASE(a_socket_activated_api_serves_the_first_request_then_exits_0_when_idle, ServeFixture) {
  write_config("[api]\nidle_exit = \"1s\"\n");
  start_activated();
  auto reply = http("GET", url("/api/v1/queue/status"));  // this connection starts oos-api
  auto served = std::chrono::steady_clock::now();
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(reply.body == queue({"status", "--json"}).out);

  BOOST_TEST_REQUIRE(api->wait(scaled(10s)) == 0, api->err());
  auto idle = std::chrono::steady_clock::now() - served;
  BOOST_TEST(idle >= 900ms);  // not before api.idle_exit (1 s) after the connection closed
  auto line = log_line(api->err(), "without a connection (api.idle_exit)");
  BOOST_TEST(line.find("\"level\":\"info\"") != std::string::npos, api->err());
}

BOOST_FIXTURE_TEST_CASE(an_open_keep_alive_connection_keeps_it_running_past_idle_exit, ServeFixture) {
  write_config("[api]\nidle_exit = \"1s\"\n");
  start_activated();
  Connection held(port);
  BOOST_TEST_REQUIRE(held.get("/api/v1/queue/status").starts_with("HTTP/1.1 200"));

  pass(*api, 2500ms);  // two and a half times api.idle_exit, connection_timeout (30 s) far off
  BOOST_TEST_REQUIRE(still_running(*api), api->err());
  BOOST_TEST(held.get("/api/v1/queue/status").starts_with("HTTP/1.1 200"));  // and still serving it

  held.close();
  auto closed = std::chrono::steady_clock::now();
  BOOST_TEST_REQUIRE(api->wait(scaled(10s)) == 0, api->err());
  BOOST_TEST((std::chrono::steady_clock::now() - closed) >= 900ms);
}

BOOST_FIXTURE_TEST_CASE(with_listen_it_never_exits_idle, ServeFixture) {
  write_config("[api]\nidle_exit = \"1s\"\n");
  start_api();
  pass(*api, 2500ms);
  BOOST_TEST_REQUIRE(still_running(*api), api->err());
  BOOST_TEST(get("/api/v1/queue/status").status == 200);
  api->signal(SIGTERM);
  BOOST_TEST(api->wait(scaled(10s)) == 0);
}

BOOST_FIXTURE_TEST_CASE(connections_from_one_address_beyond_max_connections_per_ip_are_closed, ServeFixture) {
  write_config("[api]\nidle_exit = \"1m\"\nmax_connections_per_ip = 2\n");
  start_activated();
  Connection first(port);
  Connection second(port);
  BOOST_TEST_REQUIRE(first.get("/api/v1/queue/status").starts_with("HTTP/1.1 200"), (api->pump(100), api->err()));
  BOOST_TEST_REQUIRE(second.get("/api/v1/queue/status").starts_with("HTTP/1.1 200"));

  Connection third(port);  // the kernel completes the handshake; oos-api closes it on accept
  BOOST_TEST(third.get("/api/v1/queue/status") == "");
  BOOST_TEST(first.get("/api/v1/queue/status").starts_with("HTTP/1.1 200"));  // the two are still served

  second.close();  // a place is free again
  BOOST_TEST(eventually([&] { return Connection(port).get("/api/v1/queue/status").starts_with("HTTP/1.1 200"); },
                        scaled(5s), {api.get()}));

  // SIGTERM stops it at once while it waits for its idle exit (1 minute), a connection still open.
  api->signal(SIGTERM);
  BOOST_TEST(api->wait(scaled(5s)) == 0, api->err());
  BOOST_TEST(api->err().find("stopping on SIGTERM") != std::string::npos, api->err());
}

BOOST_AUTO_TEST_SUITE_END()
