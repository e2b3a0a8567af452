// The listening socket of oos-api: bound by the daemon itself (--listen) or passed by systemd.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "util/fd.hpp"

namespace oos::api {

// Where oos-api listens when neither --listen nor systemd says: loopback only.
inline constexpr std::string_view k_default_listen = "127.0.0.1:8765";

// A TCP socket bound to `address` ("127.0.0.1:8765", "[::1]:8765", "localhost:0"; port 0 picks a free one) and
// listening. Throws oos::Error: 64 for an address without a port or a host that does not resolve, 69 when
// it cannot be bound (in use, not an address of this host).
util::Fd listen_on(std::string_view address);

// The socket systemd passed (socket activation, sd_listen_fds(3)); nullopt when none was. Throws oos::Error (64)
// when more than one was passed.
std::optional<util::Fd> systemd_socket();

// "ADDR:PORT" of the socket `fd` is bound to ("[::1]:8765" for IPv6).
std::string local_address(int fd);

}  // namespace oos::api
