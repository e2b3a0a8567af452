// Task ids for the shell completion (docs/reference.md section 21): the newest ids whose decimal form starts with
// what was typed, read as ranges of the primary key, so that no completion walks the table (< 50 ms on 1M tasks,
// bench/README.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "queue/task.hpp"
#include "queue/task_store.hpp"

namespace oos::queue {

// The ids from `low` to `high`, both included.
struct IdRange {
  TaskId low = 0;
  TaskId high = 0;
  bool operator==(const IdRange&) const = default;
};

// The ranges of positive 64-bit ids whose decimal form starts with `digits`, highest first: "12" gives
// [12e17, 13e17 - 1], ..., [120, 129], [12, 12]; "" gives every id. None for a text that is not digits, starts
// with 0 or is larger than the largest id. Pure.
std::vector<IdRange> id_prefix_ranges(std::string_view digits);

// Rows of each range that a completion filtered by status reads at most.
inline constexpr std::int64_t k_completion_window = 10'000;

// Up to `limit` ids starting with `digits`, newest first; with `status`, only those of that status among the newest
// k_completion_window ids of each range (TaskStore::ids_between).
std::vector<TaskId> complete_ids(TaskStore& store, std::string_view digits, std::optional<TaskStatus> status,
                                 std::int64_t limit);

}  // namespace oos::queue
