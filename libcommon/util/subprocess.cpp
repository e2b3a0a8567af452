#include "util/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <array>
#include <cerrno>
#include <system_error>

extern char** environ;

namespace oos::util {
namespace {

// A pipe whose ends close themselves.
struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() {
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  ~Pipe() {
    close_end(0);
    close_end(1);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  void close_end(int i) {
    if (fds[i] >= 0) ::close(fds[i]);
    fds[i] = -1;
  }
};

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// Feeds stdin and drains stdout/stderr together so that no pipe fills up and blocks the child. Our end of
// stdin is non-blocking: a blocking write would wait for the child to read everything while the child
// waits for us to read its output.
void pump(Pipe& in, Pipe& out, Pipe& err, const std::string& input, RunResult& result) {
  std::size_t written = 0;
  if (input.empty())
    in.close_end(1);
  else
    ::fcntl(in.fds[1], F_SETFL, ::fcntl(in.fds[1], F_GETFL) | O_NONBLOCK);
  std::array<char, 65536> buffer{};
  while (out.fds[0] >= 0 || err.fds[0] >= 0 || in.fds[1] >= 0) {
    std::array<pollfd, 3> polls{{{out.fds[0], POLLIN, 0}, {err.fds[0], POLLIN, 0}, {in.fds[1], POLLOUT, 0}}};
    if (::poll(polls.data(), polls.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "poll");
    }
    for (int i = 0; i < 2; ++i) {
      if (polls[static_cast<std::size_t>(i)].revents == 0) continue;
      Pipe& p = i == 0 ? out : err;
      ssize_t n = ::read(p.fds[0], buffer.data(), buffer.size());
      if (n > 0)
        (i == 0 ? result.out : result.err).append(buffer.data(), static_cast<std::size_t>(n));
      else if (n == 0 || errno != EINTR)
        p.close_end(0);
    }
    if (polls[2].revents != 0) {
      ssize_t n = ::write(in.fds[1], input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if ((n < 0 && errno != EINTR && errno != EAGAIN) || written == input.size()) in.close_end(1);
    }
  }
}

}  // namespace

RunResult run_program(const std::vector<std::string>& argv, const RunOptions& options) {
  Pipe in, out, err;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.fds[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out.fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err.fds[1], 2);

  auto args = c_strings(argv);
  std::vector<char*> env_pointers;
  if (options.env) env_pointers = c_strings(*options.env);
  char** envp = options.env ? env_pointers.data() : environ;

  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "cannot start " + argv.at(0));
  in.close_end(0);
  out.close_end(1);
  err.close_end(1);

  // A child that exits without reading its stdin must not kill us with SIGPIPE.
  struct sigaction ignore {
  }, previous{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &previous);
  RunResult result;
  pump(in, out, err, options.stdin_data, result);
  ::sigaction(SIGPIPE, &previous, nullptr);

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace oos::util
