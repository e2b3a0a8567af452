#include "support/fake_launcher.hpp"

#include <algorithm>
#include <csignal>
#include <system_error>

namespace oos::test {
namespace {

class FakeProcess final : public worker::RunningProcess {
 public:
  FakeProcess(const util::Clock& clock, FakeScript script, std::vector<int>& signals)
      : m_clock(clock),
        m_script(std::move(script)),
        m_signals(signals),
        m_ends_at(clock.monotonic() + ms_to_s(m_script.runs_for_ms)) {}

  bool step(int wait_ms) override {
    if (m_result) return true;
    double left = m_ends_at - m_clock.monotonic();
    if (left > 0) m_clock.sleep_for(std::min<std::int64_t>(wait_ms, static_cast<std::int64_t>(left * 1000.0 + 0.5)));
    if (m_clock.monotonic() >= m_ends_at) m_result = m_script.exit;
    return m_result.has_value();
  }

  void signal_group(int signal) override {
    m_signals.push_back(signal);
    if (m_result) return;
    if (signal == SIGKILL) {
      m_result = killed_by(SIGKILL);
    } else if (signal == SIGTERM && !m_script.ignores_term) {
      m_result = m_script.on_term.value_or(killed_by(SIGTERM));
    }
  }

  const util::ChildExit& result() const override { return *m_result; }

 private:
  static double ms_to_s(std::int64_t ms) { return static_cast<double>(ms) / 1000.0; }
  static util::ChildExit killed_by(int signal) { return {std::nullopt, signal, "", false, ""}; }

  const util::Clock& m_clock;
  FakeScript m_script;
  std::vector<int>& m_signals;
  double m_ends_at;
  std::optional<util::ChildExit> m_result;
};

}  // namespace

std::unique_ptr<worker::RunningProcess> FakeLauncher::launch(const util::ChildSpec& spec) {
  if (fail_to_start)
    throw std::system_error(std::make_error_code(std::errc::no_such_file_or_directory),
                            "cannot start '" + spec.argv.front() + "'");
  launched.push_back(spec);
  return std::make_unique<FakeProcess>(m_clock, script, signals);
}

}  // namespace oos::test
