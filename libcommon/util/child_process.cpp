#include "util/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <set>
#include <system_error>

#include "util/time.hpp"

namespace oos::util {
namespace {

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// Both ends of a new pipe.
struct Pipe {
  Fd read;
  Fd write;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
    read.reset(fds[0]);
    write.reset(fds[1]);
  }
};

// The "pipe:[inode]" name /proc gives the descriptors of the pipe whose read end is `fd`.
std::string pipe_name(const Fd& fd) {
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0) return {};
  return "pipe:[" + std::to_string(st.st_ino) + "]";
}

// Kills the other processes (ours to signal) that hold one of `pipes` open; returns how many it killed.
int kill_holders(const std::set<std::string>& pipes) {
  namespace fs = std::filesystem;
  int killed = 0;
  std::error_code ec;
  for (fs::directory_iterator proc("/proc", ec), end; !ec && proc != end; proc.increment(ec)) {
    const auto name = proc->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = std::stoi(name);
    if (pid == ::getpid()) continue;
    std::error_code fd_ec;
    for (fs::directory_iterator fd(proc->path() / "fd", fd_ec), fd_end; !fd_ec && fd != fd_end; fd.increment(fd_ec)) {
      std::error_code link_ec;
      auto target = fs::read_symlink(fd->path(), link_ec);
      if (link_ec || !pipes.contains(target.string())) continue;
      if (::kill(pid, SIGKILL) == 0) ++killed;
      break;
    }
  }
  return killed;
}

}  // namespace

ChildProcess::ChildProcess(const ChildSpec& spec)
    : m_input(spec.stdin_data), m_stdout_cap(spec.stdout_cap), m_stderr_tail(spec.stderr_tail) {
  Pipe in, out, err;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.read.get(), 0);
  posix_spawn_file_actions_adddup2(&actions, out.write.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err.write.get(), 2);
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
  m_pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, m_pid, 0)));
  m_stdin = std::move(in.write);
  m_stdout = std::move(out.read);
  m_stderr = std::move(err.read);
  ::fcntl(m_stdin.get(), F_SETFL, ::fcntl(m_stdin.get(), F_GETFL) | O_NONBLOCK);
  if (m_input.empty()) m_stdin.reset();
}

ChildProcess::~ChildProcess() {
  if (!m_reaped && m_pid > 0) {
    ::kill(-m_pid, SIGKILL);
    int status = 0;
    while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

void ChildProcess::signal_group(int signal) {
  if (!m_reaped && m_pid > 0) ::kill(-m_pid, signal);
}

void ChildProcess::read_from(Fd& fd, bool is_stdout) {
  std::array<char, 65536> buffer{};
  ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    fd.reset();
    return;
  }
  auto size = static_cast<std::size_t>(n);
  if (is_stdout) {
    m_result.out_bytes += size;
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

void ChildProcess::give_up_output() {
  std::set<std::string> pipes;
  for (const Fd* fd : {&m_stdout, &m_stderr})
    if (auto name = pipe_name(*fd); !name.empty()) pipes.insert(name);
  m_result.output_held = true;
  m_result.held_killed = kill_holders(pipes);
  m_stdout.reset();
  m_stderr.reset();
}

bool ChildProcess::step(int wait_ms) {
  // Once the leader has ended, output is read only until the drain deadline.
  if (m_reaped)
    wait_ms =
        std::min(wait_ms, std::max(0, static_cast<int>(std::ceil((m_drain_until - monotonic_seconds()) * 1000.0))));
  int pidfd = m_reaped ? -1 : m_pidfd.get();  // poll() skips negative descriptors
  std::array<pollfd, 4> polls{
      {{m_stdout.get(), POLLIN, 0}, {m_stderr.get(), POLLIN, 0}, {m_stdin.get(), POLLOUT, 0}, {pidfd, POLLIN, 0}}};
  bool open = m_stdout || m_stderr || m_stdin || pidfd >= 0;
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
        ssize_t n = ::write(m_stdin.get(), m_input.data() + m_written, m_input.size() - m_written);
        ::sigaction(SIGPIPE, &previous, nullptr);
        if (n > 0) m_written += static_cast<std::size_t>(n);
        if ((n < 0 && errno != EINTR && errno != EAGAIN) || m_written == m_input.size()) m_stdin.reset();
      }
    }
  } else if (!try_reap()) {
    ::poll(nullptr, 0, std::min(wait_ms, 10));
  }
  // Once the leader is reaped, whatever it left running in its group is killed (no orphans holding the
  // pipes open); the result is final when both pipes have reached end of file, or when the drain time is
  // over: then what still holds them escaped the group, and the run does not wait for it.
  bool was_reaped = m_reaped;
  bool exited = try_reap();
  if (exited && !was_reaped) {
    ::kill(-m_pid, SIGKILL);
    m_drain_until = monotonic_seconds() + k_drain_ms / 1000.0;
  }
  if (exited && (m_stdout || m_stderr) && monotonic_seconds() >= m_drain_until) give_up_output();
  if (exited && !m_stdout && !m_stderr) {
    m_stdin.reset();
    return true;
  }
  return false;
}

}  // namespace oos::util
