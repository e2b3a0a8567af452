#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>
#include <vector>

#include "policy/scaling.hpp"

using namespace oos;
using oos::policy::Sample;

BOOST_AUTO_TEST_SUITE(scaling)

namespace {

constexpr util::UnixMillis k_now = 1'800'000'000'000;
constexpr std::int64_t k_s = 1000;
constexpr std::int64_t k_min = 60 * k_s;

// A sample taken `ago` ms before now with 1-minute load `load`, plenty of memory and no PSI.
Sample load_at(std::int64_t ago, double load) {
  Sample s;
  s.at = k_now - ago;
  s.load1 = load;
  s.memory_available_percent = 50;
  return s;
}

// Samples every minute from `minutes` minutes ago up to now, all with load `load`.
std::vector<Sample> steady(int minutes, double load) {
  std::vector<Sample> out;
  for (int m = minutes; m >= 0; --m) out.push_back(load_at(m * k_min, load));
  return out;
}

// Just one sample, now, with this memory picture.
std::vector<Sample> memory_now(double available_percent, std::optional<double> psi = std::nullopt) {
  auto s = load_at(0, 0.5);
  s.memory_available_percent = available_percent;
  s.psi_some_avg10 = psi;
  return {s};
}

// The defaults of docs/reference.md section 10: 1-5 workers, 100 tasks each, load 4.0 for 5m, 10% memory, PSI 10.
config::ScaleSettings defaults() {
  return {};
}

config::ScaleSettings with_min(int min_workers) {
  config::ScaleSettings s;
  s.min_workers = min_workers;
  return s;
}

struct Case {
  const char* name;
  config::ScaleSettings settings;
  int current;
  std::int64_t runnable;
  std::vector<Sample> history;
  int desired;
  bool throttled = false;
  bool memory_pressure = false;
};

std::string joined(const std::vector<std::string>& reasons) {
  std::string out;
  for (const auto& r : reasons) out += r + "\n";
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_decision_follows_the_rules) {
  const std::vector<Case> cases{
      // Queue depth alone.
      {"empty queue -> min", defaults(), 3, 0, steady(6, 0.5), 1},
      {"empty queue with min 0 -> none", with_min(0), 2, 0, steady(6, 0.5), 0},
      {"deep queue -> max", defaults(), 1, 100'000, steady(6, 0.5), 5},
      {"one task -> one worker", defaults(), 0, 1, steady(6, 0.5), 1},
      {"an exact multiple", defaults(), 1, 300, steady(6, 0.5), 3},
      {"one more than a multiple rounds up", defaults(), 1, 301, steady(6, 0.5), 4},
      {"412 -> 5", defaults(), 1, 412, steady(6, 0.5), 5},
      {"current above max comes down to max", defaults(), 8, 1000, steady(6, 0.5), 5},
      {"no samples: the queue alone", defaults(), 1, 250, {}, 3},
      // Sustained load.
      {"load above the threshold for the whole window -> one fewer", defaults(), 4, 1000, steady(6, 6.0), 3, true},
      {"the oldest sample exactly at now - window counts",
       defaults(),
       4,
       1000,
       {load_at(5 * k_min, 6.0), load_at(0, 6.0)},
       3,
       true},
      {"a sample 1 ms short of the window is not old enough",
       defaults(),
       4,
       1000,
       {load_at(5 * k_min - 1, 6.0), load_at(0, 6.0)},
       5},
      {"a spike shorter than the window -> no throttle",
       defaults(),
       4,
       1000,
       {load_at(6 * k_min, 1.0), load_at(5 * k_min, 1.0), load_at(2 * k_min, 6.0), load_at(k_min, 6.0),
        load_at(0, 6.0)},
       5},
      {"the anchor is the newest sample at or before the window start",
       defaults(),
       4,
       1000,
       {load_at(7 * k_min, 1.0), load_at(6 * k_min, 6.0), load_at(3 * k_min, 6.0), load_at(0, 6.0)},
       3,
       true},
      {"an older low sample before the anchor does not matter",
       defaults(),
       4,
       1000,
       {load_at(20 * k_min, 0.1), load_at(5 * k_min, 6.0), load_at(0, 6.0)},
       3,
       true},
      {"a gap: no sample old enough -> no throttle",
       defaults(),
       4,
       1000,
       {load_at(2 * k_min, 6.0), load_at(k_min, 6.0), load_at(0, 6.0)},
       5},
      {"a dip inside the window -> no throttle",
       defaults(),
       4,
       1000,
       {load_at(6 * k_min, 6.0), load_at(4 * k_min, 6.0), load_at(3 * k_min, 3.0), load_at(k_min, 6.0),
        load_at(0, 6.0)},
       5},
      {"load now below the threshold -> no throttle",
       defaults(),
       4,
       1000,
       {load_at(6 * k_min, 6.0), load_at(k_min, 6.0), load_at(0, 3.9)},
       5},
      {"load equal to the threshold is not above it", defaults(), 4, 1000, steady(6, 4.0), 5},
      {"throttled while the queue asks for fewer still: the fewer", defaults(), 4, 100, steady(6, 6.0), 1, true},
      {"throttled at min stays at min", defaults(), 1, 1000, steady(6, 6.0), 1, true},
      {"throttled with none running: never below min", defaults(), 0, 1000, steady(6, 6.0), 1, true},
      {"throttled above max: one fewer, but at most max", defaults(), 8, 1000, steady(6, 6.0), 5, true},
      {"throttled from max: one fewer than max", defaults(), 5, 1000, steady(6, 6.0), 4, true},
      // Memory pressure.
      {"memory below the minimum -> one fewer", defaults(), 3, 1000, memory_now(5.0), 2, false, true},
      {"memory exactly at the minimum is no pressure", defaults(), 3, 1000, memory_now(10.0), 5},
      {"PSI above its threshold -> one fewer", defaults(), 3, 1000, memory_now(50, 25.0), 2, false, true},
      {"PSI at its threshold is no pressure", defaults(), 3, 1000, memory_now(50, 10.0), 5},
      {"no PSI (old kernel) and enough memory", defaults(), 3, 1000, memory_now(50), 5},
      {"memory pressure at min stays at min", defaults(), 1, 1000, memory_now(5.0), 1, false, true},
      {"only the newest sample's memory counts",
       defaults(),
       3,
       1000,
       {[] {
          auto s = load_at(k_min, 0.5);
          s.memory_available_percent = 1;
          return s;
        }(),
        load_at(0, 0.5)},
       5},
      {"load and memory together: still one step", defaults(), 4, 1000,
       [] {
         auto h = steady(6, 6.0);
         h.back().memory_available_percent = 2;
         return h;
       }(),
       3, true, true},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      auto d = policy::decide_scale(c.settings, {c.current, c.runnable, c.history, k_now});
      BOOST_TEST(d.desired == c.desired, joined(d.reasons));
      BOOST_TEST(d.throttled == c.throttled, joined(d.reasons));
      BOOST_TEST(d.memory_pressure == c.memory_pressure, joined(d.reasons));
      BOOST_TEST(d.desired >= c.settings.min_workers);
      BOOST_TEST(d.desired <= c.settings.max_workers);
      BOOST_TEST(!d.reasons.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(never_below_min_or_above_max_whatever_the_input) {
  config::ScaleSettings settings;
  settings.min_workers = 2;
  settings.max_workers = 4;
  for (int current : {0, 1, 2, 3, 4, 5, 9})
    for (std::int64_t runnable : {0, 1, 199, 200, 201, 400, 401, 1'000'000})
      for (double load : {0.0, 9.0})
        for (double memory : {1.0, 90.0}) {
          auto history = steady(6, load);
          history.back().memory_available_percent = memory;
          auto d = policy::decide_scale(settings, {current, runnable, history, k_now});
          BOOST_TEST_CONTEXT(current << " running, " << runnable << " runnable, load " << load << ", memory "
                                     << memory) {
            BOOST_TEST(d.desired >= 2);
            BOOST_TEST(d.desired <= 4);
            // Under load or memory pressure there is no scale-up, except up to min.
            if (load > 4.0 || memory < 10.0) BOOST_TEST(d.desired <= std::max(current - 1, 2));
          }
        }
}

BOOST_AUTO_TEST_CASE(each_decision_says_why) {
  auto queue_only = policy::decide_scale(defaults(), {1, 412, steady(6, 0.5), k_now});
  BOOST_TEST(joined(queue_only.reasons) == "412 runnable tasks / 100 per worker -> 5\n");

  auto raised = policy::decide_scale(defaults(), {3, 0, steady(6, 0.5), k_now});
  BOOST_TEST(joined(raised.reasons) == "0 runnable tasks / 100 per worker -> 0, raised to min_workers 1\n");

  auto capped = policy::decide_scale(defaults(), {8, 1, steady(6, 0.5), k_now});
  BOOST_TEST(joined(capped.reasons) == "1 runnable task / 100 per worker -> 1\n8 running, above max_workers 5\n");

  auto throttled = policy::decide_scale(defaults(), {4, 1000, steady(6, 6.2), k_now});
  BOOST_TEST(joined(throttled.reasons) ==
             "1000 runnable tasks / 100 per worker -> 10, capped at max_workers 5\n"
             "load 6.20 above 4.00 for 5m -> throttled: one fewer than the 4 running -> 3\n");

  auto spike = policy::decide_scale(defaults(), {4, 1000, {load_at(6 * k_min, 1.0), load_at(0, 6.2)}, k_now});
  BOOST_TEST(spike.reasons.at(1) == "load 6.20 above 4.00, but not for the whole 5m -> not throttled");

  auto young = policy::decide_scale(defaults(), {4, 1000, {load_at(k_min, 6.0), load_at(0, 6.2)}, k_now});
  BOOST_TEST(young.reasons.at(1) == "load 6.20 above 4.00, but no sample from 5m ago yet -> not throttled");

  auto memory = policy::decide_scale(defaults(), {3, 1000, memory_now(7.5), k_now});
  BOOST_TEST(memory.reasons.at(1) ==
             "memory available 7.5% below 10% -> memory pressure: one fewer than the 3 running -> 2; "
             "workers release memory");

  auto psi = policy::decide_scale(defaults(), {1, 1000, memory_now(50, 31.5), k_now});
  BOOST_TEST(psi.reasons.at(1) ==
             "memory pressure (PSI some avg10) 31.50 above 10.00 -> memory pressure: one fewer than the 1 running, "
             "but not below min_workers 1 -> 1; workers release memory");

  auto fewer = policy::decide_scale(defaults(), {4, 100, steady(6, 6.0), k_now});
  BOOST_TEST(fewer.reasons.at(1) ==
             "load 6.00 above 4.00 for 5m -> throttled: no scale-up; the queue already asks for fewer than the 4 "
             "running -> 1");

  auto above_max = policy::decide_scale(defaults(), {8, 1000, steady(6, 6.0), k_now});
  BOOST_TEST(above_max.reasons.back() ==
             "load 6.00 above 4.00 for 5m -> throttled: no scale-up; the queue already asks for fewer than the 8 "
             "running -> 5");

  auto blind = policy::decide_scale(defaults(), {1, 250, {}, k_now});
  BOOST_TEST(blind.reasons.back() == "no sample of load and memory: the queue depth alone decides");
}

BOOST_AUTO_TEST_CASE(a_custom_window_and_threshold_are_honoured) {
  config::ScaleSettings settings;
  settings.load_threshold = 8.0;
  settings.load_window = std::chrono::minutes(10);
  // 6 minutes of 9.0: sustained under the default 5m window, not under 10m.
  auto d = policy::decide_scale(settings, {4, 1000, steady(6, 9.0), k_now});
  BOOST_TEST(!d.throttled);
  BOOST_TEST(policy::decide_scale(settings, {4, 1000, steady(10, 9.0), k_now}).throttled);
  BOOST_TEST(!policy::decide_scale(settings, {4, 1000, steady(10, 7.0), k_now}).throttled);
}

BOOST_AUTO_TEST_SUITE_END()
