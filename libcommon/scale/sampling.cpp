#include "scale/sampling.hpp"

#include "resources/resources.hpp"

namespace oos::scale {

std::expected<Sample, std::string> take_sample(util::UnixMillis now, std::int64_t runnable,
                                               const SampleSources& sources) {
  auto load = resources::read_loadavg(sources.loadavg);
  if (!load) return std::unexpected(load.error());
  auto memory = resources::read_meminfo(sources.meminfo);
  if (!memory) return std::unexpected(memory.error());
  auto pressure = resources::read_pressure(sources.pressure);
  if (!pressure) return std::unexpected(pressure.error());
  Sample sample;
  sample.at = now;
  sample.load1 = load->one;
  sample.memory_available_percent = memory->available_percent();
  if (*pressure) sample.psi_some_avg10 = (*pressure)->some_avg10;
  sample.runnable = runnable;
  return sample;
}

}  // namespace oos::scale
