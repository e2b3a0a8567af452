#include "support/deadline.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/fd.hpp"

namespace oos::test {

std::optional<std::string> run_with_deadline(const std::function<std::string()>& body, unsigned seconds) {
  int fds[2];
  if (::pipe(fds) != 0) return std::nullopt;
  util::Fd read_end(fds[0]), write_end(fds[1]);
  pid_t pid = ::fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    read_end.reset();
    ::signal(SIGALRM, SIG_DFL);  // Boost.Test catches SIGALRM; here it must simply end the child
    ::alarm(seconds);
    std::string out;
    try {
      out = body();
    } catch (...) {
      ::_exit(2);
    }
    for (std::size_t done = 0; done < out.size();) {
      auto n = ::write(write_end.get(), out.data() + done, out.size() - done);
      if (n <= 0) ::_exit(1);
      done += static_cast<std::size_t>(n);
    }
    ::_exit(0);
  }
  write_end.reset();
  std::string out;
  char buffer[65536];
  for (ssize_t n; (n = ::read(read_end.get(), buffer, sizeof buffer)) > 0;)
    out.append(buffer, static_cast<std::size_t>(n));
  read_end.reset();
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return out;
}

}  // namespace oos::test
