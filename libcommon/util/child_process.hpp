// A child process in its own process group, driven step by step: the caller pumps its I/O with a bounded
// wait, so a long-running loop (the worker) can renew leases, ping the watchdog and enforce timeouts
// between steps. Stdout is kept up to a cap from its start, stderr as its last bytes.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "util/fd.hpp"

namespace oos::util {

struct ChildSpec {
  std::vector<std::string> argv;       // argv[0] is a path or looked up in PATH
  std::vector<std::string> env;        // the whole environment, "NAME=value"
  std::string stdin_data;              // written to stdin, then stdin is closed
  std::size_t stdout_cap = 64 * 1024;  // bytes of stdout kept (the first ones)
  std::size_t stderr_tail = 4 * 1024;  // bytes of stderr kept (the last ones)
};

struct ChildExit {
  std::optional<int> exit_code;  // set when it exited
  std::optional<int> signal;     // set when a signal ended it
  std::string out;               // the first stdout_cap bytes of stdout
  bool out_truncated = false;
  std::string err_tail;  // the last stderr_tail bytes of stderr
  // Processes that escaped the process group (setsid, a double fork) still held stdout or stderr open when
  // the leader had ended: the run ended without waiting for them, and `held_killed` of them were killed.
  bool output_held = false;
  int held_killed = 0;
  std::size_t out_bytes = 0;  // the bytes of stdout the child wrote, kept or not
};

// Move-only owner of a running child. The destructor kills the whole group and reaps the child, so a
// child never outlives its owner by accident.
class ChildProcess {
 public:
  // Starts the child as the leader of a new process group. Throws std::system_error when it cannot start.
  explicit ChildProcess(const ChildSpec& spec);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Moves data between the child and us for at most `wait_ms`; returns true once the child has exited and
  // its output is drained (then result() is final). When the leader exits, what it left running in its
  // process group is killed.
  bool step(int wait_ms);

  // Sends `signal` to the child's whole process group (grandchildren included).
  void signal_group(int signal);

  pid_t pid() const { return m_pid; }
  // How long output is still read after the leader has ended.
  static constexpr int k_drain_ms = 150;
  const ChildExit& result() const { return m_result; }

 private:
  void read_from(Fd& fd, bool is_stdout);
  bool try_reap();
  void give_up_output();

  pid_t m_pid = -1;
  Fd m_stdin;
  Fd m_stdout;
  Fd m_stderr;
  Fd m_pidfd;  // readable once the child has exited
  std::string m_input;
  std::size_t m_written = 0;
  std::size_t m_stdout_cap;
  std::size_t m_stderr_tail;
  bool m_reaped = false;
  double m_drain_until = 0;  // monotonic seconds, set when the leader is reaped
  ChildExit m_result;
};

}  // namespace oos::util
