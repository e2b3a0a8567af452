#include "util/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <system_error>

namespace oos::util {
namespace {

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// A pipe whose ends are closed unless released.
struct PipePair {
  int fds[2] = {-1, -1};
  PipePair() {
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  ~PipePair() {
    close_fd(fds[0]);
    close_fd(fds[1]);
  }
  int release(int i) {
    int fd = fds[i];
    fds[i] = -1;
    return fd;
  }
};

}  // namespace

ChildProcess::ChildProcess(const ChildSpec& spec)
    : m_input(spec.stdin_data), m_stdout_cap(spec.stdout_cap), m_stderr_tail(spec.stderr_tail) {
  PipePair in, out, err;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.fds[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out.fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err.fds[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so that a timeout can kill everything it started; default signal handling.
  sigset_t defaults;
  sigfillset(&defaults);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  auto args = c_strings(spec.argv);
  auto envp = c_strings(spec.env);
  int rc = ::posix_spawnp(&m_pid, args.at(0), &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "cannot start " + spec.argv.at(0));
  // A pidfd turns "the child exited" into an event poll() can wait for along with the pipes (Linux 5.3);
  // without one, step() falls back to checking every 10 ms.
  // (glibc 2.36's <sys/pidfd.h> lacks C linkage for C++, hence the raw system call.)
  m_pidfd = static_cast<int>(::syscall(SYS_pidfd_open, m_pid, 0));
  m_stdin = in.release(1);
  m_stdout = out.release(0);
  m_stderr = err.release(0);
  ::fcntl(m_stdin, F_SETFL, ::fcntl(m_stdin, F_GETFL) | O_NONBLOCK);
  if (m_input.empty()) close_fd(m_stdin);
}

ChildProcess::~ChildProcess() {
  if (!m_reaped && m_pid > 0) {
    ::kill(-m_pid, SIGKILL);
    int status = 0;
    while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  close_fd(m_stdin);
  close_fd(m_stdout);
  close_fd(m_stderr);
  close_fd(m_pidfd);
}

void ChildProcess::signal_group(int signal) {
  if (!m_reaped && m_pid > 0) ::kill(-m_pid, signal);
}

void ChildProcess::read_from(int& fd, bool is_stdout) {
  std::array<char, 65536> buffer{};
  ssize_t n = ::read(fd, buffer.data(), buffer.size());
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    close_fd(fd);
    return;
  }
  auto size = static_cast<std::size_t>(n);
  if (is_stdout) {
    auto room = m_stdout_cap - std::min(m_stdout_cap, m_result.out.size());
    m_result.out.append(buffer.data(), std::min(room, size));
    m_result.out_truncated = m_result.out_truncated || size > room;
  } else {
    m_result.err_tail.append(buffer.data(), size);
    if (m_result.err_tail.size() > m_stderr_tail) m_result.err_tail.erase(0, m_result.err_tail.size() - m_stderr_tail);
  }
}

bool ChildProcess::try_reap() {
  if (m_reaped) return true;
  int status = 0;
  pid_t got = ::waitpid(m_pid, &status, WNOHANG);
  if (got != m_pid) return false;
  m_reaped = true;
  if (WIFEXITED(status))
    m_result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    m_result.signal = WTERMSIG(status);
  return true;
}

bool ChildProcess::step(int wait_ms) {
  int pidfd = m_reaped ? -1 : m_pidfd;  // poll() skips negative descriptors
  std::array<pollfd, 4> polls{
      {{m_stdout, POLLIN, 0}, {m_stderr, POLLIN, 0}, {m_stdin, POLLOUT, 0}, {pidfd, POLLIN, 0}}};
  bool open = m_stdout >= 0 || m_stderr >= 0 || m_stdin >= 0 || pidfd >= 0;
  if (open) {
    int ready = ::poll(polls.data(), polls.size(), wait_ms);
    if (ready > 0) {
      if (polls[0].revents != 0) read_from(m_stdout, true);
      if (polls[1].revents != 0) read_from(m_stderr, false);
      if (polls[2].revents != 0) {
        // Never block on a child that does not read (the stdin end is non-blocking), and do not die of
        // SIGPIPE when it exits without reading.
        struct sigaction ignore {
        }, previous{};
        ignore.sa_handler = SIG_IGN;
        ::sigaction(SIGPIPE, &ignore, &previous);
        ssize_t n = ::write(m_stdin, m_input.data() + m_written, m_input.size() - m_written);
        ::sigaction(SIGPIPE, &previous, nullptr);
        if (n > 0) m_written += static_cast<std::size_t>(n);
        if ((n < 0 && errno != EINTR && errno != EAGAIN) || m_written == m_input.size()) close_fd(m_stdin);
      }
    }
  } else if (!try_reap()) {
    ::poll(nullptr, 0, std::min(wait_ms, 10));
  }
  // Once the leader is reaped, whatever it left running in its group is killed (no orphans holding the
  // pipes open); the result is final when both pipes have reached end of file.
  bool was_reaped = m_reaped;
  bool exited = try_reap();
  if (exited && !was_reaped) ::kill(-m_pid, SIGKILL);
  if (exited && m_stdout < 0 && m_stderr < 0) {
    close_fd(m_stdin);
    return true;
  }
  return false;
}

}  // namespace oos::util
