#include "api/listen.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "error.hpp"

namespace oos::api {

util::Fd listen_on(std::string_view address) {
  auto colon = address.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == address.size())
    throw Error(ExitCode::usage, "--listen: '" + std::string(address) + "' has no port: use ADDR:PORT");
  std::string host(address.substr(0, colon));
  std::string port(address.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found); rc != 0)
    throw Error(ExitCode::usage, "--listen: '" + std::string(address) + "': " + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, &freeaddrinfo);
  std::string cause = "no address";
  for (auto* a = found; a; a = a->ai_next) {
    util::Fd fd(socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (!fd) {
      cause = std::strerror(errno);
      continue;
    }
    int one = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd.get(), a->ai_addr, a->ai_addrlen) == 0 && listen(fd.get(), SOMAXCONN) == 0) return fd;
    cause = std::strerror(errno);
  }
  throw Error(ExitCode::unavailable, "cannot listen on " + std::string(address) + ": " + cause);
}

std::optional<util::Fd> systemd_socket() {
  int count = sd_listen_fds(1);
  if (count <= 0) return std::nullopt;
  if (count > 1)
    throw Error(ExitCode::usage,
                "systemd passed " + std::to_string(count) + " sockets: oos-api.socket must have one ListenStream=");
  return util::Fd(SD_LISTEN_FDS_START);
}

std::string local_address(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return "?";
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
  inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(ntohs(in->sin_port));
}

}  // namespace oos::api
