// What oos-worker tells systemd (docs/reference.md section 8.2), through a fake notify socket: READY=1, STATUS=,
// WATCHDOG=1 only while its loop makes progress, STOPPING=1 on SIGTERM. libsystemd's sd_notify is the real one.
#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <SQLiteCpp/Database.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <optional>
#include <stdexcept>

#include "cli/cli_support.hpp"
#include "util/fd.hpp"

using oos::test::BackgroundProcess;
using oos::test::CliFixture;
using oos::test::handler_toml;
using oos::test::scaled;
using oos::test::wait_for_gate;
using oos::test::write_file;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

double seconds(std::chrono::milliseconds duration) {
  return std::chrono::duration<double>(duration).count();
}

struct Datagram {
  Clock::time_point at;
  std::string text;
};

// An AF_UNIX datagram socket standing in for systemd's $NOTIFY_SOCKET; records what arrives, with when it was
// sent (the kernel's timestamp), so that a test slowed down in reading does not see gaps the worker did not make.
class NotifySocket {
 public:
  explicit NotifySocket(const std::filesystem::path& path) : m_path(path) {
    m_fd.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!m_fd) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
    int on = 1;
    if (::setsockopt(m_fd.get(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0)
      throw std::runtime_error("SO_TIMESTAMPNS: " + std::string(std::strerror(errno)));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.string().size() >= sizeof address.sun_path) throw std::runtime_error("socket path too long");
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    if (::bind(m_fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      throw std::runtime_error("bind: " + std::string(std::strerror(errno)));
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  std::string env() const { return "NOTIFY_SOCKET=" + m_path.string(); }

  // Receives for `duration` (or until `worker` has exited and nothing more arrives), pumping `worker`.
  void receive_for(std::chrono::milliseconds duration, BackgroundProcess& worker) {
    auto until = Clock::now() + duration;
    while (Clock::now() < until) {
      bool exited = worker.pump();
      pollfd p{m_fd.get(), POLLIN, 0};
      if (::poll(&p, 1, 10) > 0) {
        char buffer[4096];
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
        iovec data{buffer, sizeof buffer};
        msghdr message{};
        message.msg_iov = &data;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
        auto n = ::recvmsg(m_fd.get(), &message, MSG_DONTWAIT);
        if (n > 0) received.push_back({sent_at(message), std::string(buffer, static_cast<std::size_t>(n))});
      } else if (exited) {
        return;
      }
    }
  }
  // Receives until a datagram containing `text` arrived (when it did) or `timeout` passed (nullopt).
  std::optional<Clock::time_point> receive_until(const std::string& text, std::chrono::milliseconds timeout,
                                                 BackgroundProcess& worker) {
    auto until = Clock::now() + timeout;
    for (std::size_t seen = 0; Clock::now() < until;) {
      for (; seen < received.size(); ++seen)
        if (received[seen].text.find(text) != std::string::npos) return received[seen].at;
      receive_for(20ms, worker);
    }
    return std::nullopt;
  }

  // Receives until `condition` holds (true) or `timeout` passed. The worker must not be left sending to a
  // full socket queue (net.unix.max_dgram_qlen, 10 by default): sd_notify would block it.
  bool receive_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                     BackgroundProcess& worker) {
    auto until = Clock::now() + timeout;
    while (!condition()) {
      if (Clock::now() >= until) return false;
      receive_for(50ms, worker);
    }
    return true;
  }

  // When the pings arrived, within [from, to].
  std::vector<Clock::time_point> pings(Clock::time_point from = Clock::time_point::min(),
                                       Clock::time_point to = Clock::time_point::max()) const {
    std::vector<Clock::time_point> at;
    for (const auto& d : received)
      if (d.text.find("WATCHDOG=1") != std::string::npos && d.at >= from && d.at <= to) at.push_back(d.at);
    return at;
  }
  bool any(const std::string& text) const {
    for (const auto& d : received)
      if (d.text.find(text) != std::string::npos) return true;
    return false;
  }

  std::vector<Datagram> received;

 private:
  // When the datagram of `message` was sent, from its SCM_TIMESTAMPNS (the real-time clock), on Clock.
  static Clock::time_point sent_at(msghdr& message) {
    auto now = Clock::now();
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
      timespec sent{};
      std::memcpy(&sent, CMSG_DATA(c), sizeof sent);
      auto age = std::chrono::system_clock::now().time_since_epoch() -
                 (std::chrono::seconds(sent.tv_sec) + std::chrono::nanoseconds(sent.tv_nsec));
      return now - std::chrono::duration_cast<Clock::duration>(age);
    }
    return now;
  }

  std::filesystem::path m_path;
  oos::util::Fd m_fd;
};

// The longest time between consecutive `pings` (0 with fewer than two).
double longest_gap(const std::vector<Clock::time_point>& pings) {
  double gap = 0;
  for (std::size_t i = 1; i < pings.size(); ++i) gap = std::max(gap, seconds_between(pings[i - 1], pings[i]));
  return gap;
}

std::string all_text(const NotifySocket& socket) {
  std::string all;
  for (const auto& d : socket.received) all += "[" + d.text + "] ";
  return all;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(watchdog)

BOOST_FIXTURE_TEST_CASE(ready_status_and_pings_through_a_long_handler_then_stopping, CliFixture) {
  NotifySocket socket(dir() / "notify");
  // The handler runs until the test opens its gate, 3s (scaled) after the worker said so: the gap allowed
  // between pings (1s, scaled) stays far shorter than the run.
  auto gate = dir() / "gate";
  write_config("[worker]\npoll_interval = \"100ms\"\n\n" +
               handler_toml("sleepy", write_script("sleepy.sh", wait_for_gate(gate) + "echo rested\n")));
  enqueue("default", "sleepy");
  auto w = start_worker({"--name", "w1"}, {socket.env(), "WATCHDOG_USEC=400000"});
  BOOST_TEST_REQUIRE(socket.receive_until("READY=1", scaled(5s), *w).has_value(), all_text(socket));
  BOOST_TEST(socket.received.front().text.find("READY=1") != std::string::npos, all_text(socket));
  auto running = socket.receive_until("STATUS=running task 1", scaled(5s), *w);
  BOOST_TEST_REQUIRE(running.has_value(), all_text(socket));
  socket.receive_for(scaled(3s), *w);
  write_file(gate, "");
  BOOST_TEST_REQUIRE(
      socket.receive_until([&] { return sql_text("SELECT status FROM tasks") == "succeeded"; }, scaled(10s), *w));
  auto done = Clock::now();
  socket.receive_for(300ms, *w);
  auto pings = socket.pings(*running, done);
  auto bounded = pings;  // a missing first or last ping counts too
  bounded.insert(bounded.begin(), *running);
  bounded.push_back(done);
  BOOST_TEST(pings.size() >= 10u, pings.size() << " pings in " << seconds_between(*running, done) << "s");
  BOOST_TEST(longest_gap(bounded) < seconds(scaled(1s)), "a gap of " << longest_gap(bounded) << "s without a ping");
  BOOST_TEST(socket.any("STATUS=idle"), all_text(socket));

  auto before_stop = socket.received.size();
  w->signal(SIGTERM);
  BOOST_TEST(w->wait(scaled(5s)) == 0, w->err());
  socket.receive_for(200ms, *w);
  bool stopping = false;
  for (auto i = before_stop; i < socket.received.size(); ++i)
    stopping = stopping || socket.received[i].text.find("STOPPING=1") != std::string::npos;
  BOOST_TEST(stopping, all_text(socket));
}

BOOST_FIXTURE_TEST_CASE(no_ping_while_the_database_is_locked_and_pings_resume_after, CliFixture,
                        *oos::test::sqlite_only("holds SQLite's write lock (db.busy_timeout)")) {
  NotifySocket socket(dir() / "notify");
  write_config("[worker]\npoll_interval = \"100ms\"\n\n[db]\nbusy_timeout = \"10s\"\n\n" +
               handler_toml("noop", "/bin/true"));
  create_database();
  auto w = start_worker({"--name", "w1"}, {socket.env(), "WATCHDOG_USEC=400000"});
  BOOST_TEST_REQUIRE(socket.receive_until("READY=1", scaled(5s), *w).has_value(), all_text(socket));
  BOOST_TEST(socket.receive_until([&] { return socket.pings().size() >= 2u; }, scaled(600ms), *w),
             all_text(socket));  // an idle worker pings

  SQLite::Database db(db_path().string(), SQLite::OPEN_READWRITE);
  db.setBusyTimeout(static_cast<int>(scaled(5s).count()));
  db.exec("BEGIN EXCLUSIVE");
  auto locked = Clock::now();
  // Within `settle` the worker ends what it was doing (an idle wait of a poll interval, a ping) and blocks on
  // the lock; then not one ping while it lasts (2.4s more).
  auto settle = scaled(600ms);
  socket.receive_for(settle + 2400ms, *w);
  auto releasing = Clock::now();  // before COMMIT: a ping may follow it before this test reads the clock again
  db.exec("COMMIT");
  socket.receive_for(scaled(1500ms), *w);

  auto during = socket.pings(locked + settle, releasing);
  BOOST_TEST(during.empty(), during.size() << " pings while the database was locked, the first "
                                           << (during.empty() ? 0.0 : seconds_between(locked, during.front()))
                                           << "s after the lock");
  auto after = socket.pings(releasing);
  BOOST_TEST(!after.empty(), "no ping after the lock was released");
  if (!after.empty()) BOOST_TEST(seconds_between(releasing, after.front()) < seconds(scaled(1s)));

  w->signal(SIGTERM);
  BOOST_TEST(w->wait(scaled(5s)) == 0, w->err());
  BOOST_TEST(w->err().find("busy") == std::string::npos, w->err());  // the lock is within db.busy_timeout
}

BOOST_FIXTURE_TEST_CASE(no_ping_when_the_watchdog_is_meant_for_another_process, CliFixture) {
  NotifySocket socket(dir() / "notify");
  write_config("[worker]\npoll_interval = \"100ms\"\n\n" + handler_toml("noop", "/bin/true"));
  enqueue("default", "noop");
  auto w = start_worker({"--name", "w1"}, {socket.env(), "WATCHDOG_USEC=400000", "WATCHDOG_PID=1"});
  BOOST_TEST_REQUIRE(socket.receive_until("READY=1", scaled(5s), *w).has_value(), all_text(socket));
  // It works (it runs its task), only without pinging, for 1s more than that.
  BOOST_TEST(socket.receive_until([&] { return sql_text("SELECT status FROM tasks") == "succeeded"; }, scaled(5s), *w),
             w->err());
  socket.receive_for(1s, *w);
  w->signal(SIGTERM);
  BOOST_TEST(w->wait(scaled(5s)) == 0, w->err());
  socket.receive_for(200ms, *w);
  BOOST_TEST(socket.pings().empty(), all_text(socket));
  BOOST_TEST(socket.any("STOPPING=1"), all_text(socket));
  BOOST_TEST(sql_text("SELECT status FROM tasks") == "succeeded");
}

BOOST_AUTO_TEST_SUITE_END()
