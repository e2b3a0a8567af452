#include "support/deadline.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace oos::test {

std::optional<std::string> run_with_deadline(const std::function<std::string()>& body, unsigned seconds) {
  int fds[2];
  if (::pipe(fds) != 0) return std::nullopt;
  pid_t pid = ::fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    ::close(fds[0]);
    ::signal(SIGALRM, SIG_DFL);  // Boost.Test catches SIGALRM; here it must simply end the child
    ::alarm(seconds);
    std::string out;
    try {
      out = body();
    } catch (...) {
      ::_exit(2);
    }
    for (std::size_t done = 0; done < out.size();) {
      auto n = ::write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0) ::_exit(1);
      done += static_cast<std::size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buffer[65536];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) out.append(buffer, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return out;
}

}  // namespace oos::test
