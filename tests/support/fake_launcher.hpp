// A scripted stand-in for handler processes (worker::ProcessLauncher), so that the worker's decisions (timeouts,
// renewals, the shutdown grace, what an exit means) run in-process on a ManualClock, without real processes or
// real waiting. Waiting on a fake process advances the clock.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "util/time.hpp"
#include "worker/launcher.hpp"

namespace oos::test {

// How a fake handler behaves.
struct FakeScript {
  std::int64_t runs_for_ms = 0;  // then it ends by itself as `exit` says
  util::ChildExit exit{0, std::nullopt, "", false, ""};
  // SIGTERM to its group: nullopt ends it as killed by SIGTERM; a value ends it that way (a handler that traps
  // TERM and exits 0, say).
  std::optional<util::ChildExit> on_term;
  bool ignores_term = false;  // keeps running after SIGTERM (SIGKILL still ends it)
};

class FakeLauncher final : public worker::ProcessLauncher {
 public:
  explicit FakeLauncher(const util::Clock& clock) : m_clock(clock) {}

  // What the next launches do (the same script for each).
  FakeScript script;
  // Launches throw std::system_error, as when the program does not exist.
  bool fail_to_start = false;

  // Every spec launched, in order, and every signal sent to any fake's group.
  std::vector<util::ChildSpec> launched;
  std::vector<int> signals;

  std::unique_ptr<worker::RunningProcess> launch(const util::ChildSpec& spec) override;

 private:
  const util::Clock& m_clock;
};

}  // namespace oos::test
