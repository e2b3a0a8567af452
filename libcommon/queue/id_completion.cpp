#include "queue/id_completion.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

namespace oos::queue {

std::vector<IdRange> id_prefix_ranges(std::string_view digits) {
  constexpr TaskId max = std::numeric_limits<TaskId>::max();
  if (digits.empty()) return {{1, max}};
  if (digits.front() == '0' || digits.find_first_not_of("0123456789") != std::string_view::npos) return {};
  TaskId low = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), low);
  if (ec != std::errc() || end != digits.data() + digits.size()) return {};
  // Each further digit multiplies the range by ten: [p, p], [10p, 10p + 9], [100p, 100p + 99], ... up to max.
  std::vector<IdRange> out;
  for (TaskId span = 1;; span *= 10) {
    out.push_back({low, span - 1 > max - low ? max : low + (span - 1)});
    if (low > max / 10) break;
    low *= 10;
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<TaskId> complete_ids(TaskStore& store, std::string_view digits, std::optional<TaskStatus> status,
                                 std::int64_t limit) {
  std::vector<TaskId> out;
  for (const auto& range : id_prefix_ranges(digits)) {
    if (static_cast<std::int64_t>(out.size()) >= limit) break;
    auto ids = store.ids_between(range.low, range.high, status, limit - static_cast<std::int64_t>(out.size()),
                                 k_completion_window);
    out.insert(out.end(), ids.begin(), ids.end());
  }
  return out;
}

}  // namespace oos::queue
