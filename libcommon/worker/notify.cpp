#include "worker/notify.hpp"

#include <charconv>
#include <cstdlib>
#include <cstring>

namespace oos::worker {
namespace {

template <typename T>
std::optional<T> parse_number(const char* text) {
  if (!text || !*text) return std::nullopt;
  T value{};
  const char* end = text + std::strlen(text);
  auto [ptr, ec] = std::from_chars(text, end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

}  // namespace

std::optional<util::Millis> watchdog_interval(const char* watchdog_usec, const char* watchdog_pid, pid_t self) {
  auto usec = parse_number<std::uint64_t>(watchdog_usec);
  if (!usec || *usec == 0) return std::nullopt;
  if (watchdog_pid && *watchdog_pid) {
    auto pid = parse_number<pid_t>(watchdog_pid);
    if (!pid || *pid != self) return std::nullopt;
  }
  return util::Millis(std::max<std::int64_t>(1, static_cast<std::int64_t>(*usec / 2000)));
}

SystemdNotifier::SystemdNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  if (!socket || !*socket) return;
  if (auto loaded = sd::Libsystemd::load())
    m_systemd.emplace(std::move(*loaded));
  else
    m_problem = "NOTIFY_SOCKET is set but " + loaded.error();
}

void SystemdNotifier::notify(const std::string& state) {
  if (m_systemd) m_systemd->notify(state.c_str());
}

void WatchdogPinger::progressed(double now) {
  if (!m_interval) return;
  if ((now - m_last) * 1000.0 < static_cast<double>(m_interval->count())) return;
  m_last = now;
  m_notifier.notify("WATCHDOG=1");
}

}  // namespace oos::worker
