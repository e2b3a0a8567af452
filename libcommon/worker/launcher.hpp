// The worker's seam to handler processes: it starts them through a ProcessLauncher and drives each through the
// narrow RunningProcess interface, so tests can run the worker's decisions in-process with a scripted fake
// (as ninja's CommandRunner and its FakeCommandRunner). Production uses ChildLauncher (util::ChildProcess).
#pragma once

#include <memory>

#include "util/child_process.hpp"

namespace oos::worker {

// A started handler process.
class RunningProcess {
 public:
  virtual ~RunningProcess() = default;  // kills the process group if it still runs
  // Moves data between the process and the worker for at most `wait_ms`; true once it has exited and its
  // output is drained (then result() is final).
  virtual bool step(int wait_ms) = 0;
  // Sends `signal` to its whole process group.
  virtual void signal_group(int signal) = 0;
  virtual const util::ChildExit& result() const = 0;
};

// Starts handler processes.
class ProcessLauncher {
 public:
  virtual ~ProcessLauncher() = default;
  // Starts `spec`. Throws std::system_error when it cannot start.
  virtual std::unique_ptr<RunningProcess> launch(const util::ChildSpec& spec) = 0;
};

// Real child processes, each the leader of its own process group.
class ChildLauncher final : public ProcessLauncher {
 public:
  std::unique_ptr<RunningProcess> launch(const util::ChildSpec& spec) override;
};

}  // namespace oos::worker
