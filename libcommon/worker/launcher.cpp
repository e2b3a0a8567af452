#include "worker/launcher.hpp"

namespace oos::worker {
namespace {

class RealProcess final : public RunningProcess {
 public:
  explicit RealProcess(const util::ChildSpec& spec) : m_child(spec) {}
  bool step(int wait_ms) override { return m_child.step(wait_ms); }
  void signal_group(int signal) override { m_child.signal_group(signal); }
  const util::ChildExit& result() const override { return m_child.result(); }

 private:
  util::ChildProcess m_child;
};

}  // namespace

std::unique_ptr<RunningProcess> ChildLauncher::launch(const util::ChildSpec& spec) {
  return std::make_unique<RealProcess>(spec);
}

}  // namespace oos::worker
