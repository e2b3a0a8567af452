// A loopback TCP socket that listens and never reads or answers: the kernel completes the handshake, so a client
// connects and then waits for an answer that never comes (a hung server, a firewall that swallows the reply).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

namespace oos::test {

class SilentServer {
 public:
  SilentServer() : m_fd(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (m_fd < 0) throw std::runtime_error("SilentServer: socket() failed");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(m_fd, 8) != 0 ||
        ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ::close(m_fd);
      throw std::runtime_error("SilentServer: cannot listen on loopback");
    }
    m_port = ntohs(address.sin_port);
  }
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;
  ~SilentServer() { ::close(m_fd); }

  // A libpq connection string for it.
  std::string conninfo() const { return "host=127.0.0.1 port=" + std::to_string(m_port) + " user=postgres"; }

 private:
  int m_fd;
  int m_port = 0;
};

}  // namespace oos::test
