// The page sizes of the task listings, shared by the CLI (oos-queue list, oos-retry list) and oos-api.
#pragma once

#include <cstdint>

namespace oos::queue {

// `oos-queue list --limit` and GET /api/v1/queue/NAME/tasks without ?limit.
constexpr std::int64_t k_default_task_limit = 50;
// `oos-retry list --limit` and GET /api/v1/queue/NAME/dead-letter without ?limit.
constexpr std::int64_t k_default_dead_limit = 100;
// The most `oos-retry list --limit` and the dead-letter listing's ?limit accept.
constexpr std::int64_t k_max_dead_limit = 1'000'000;

}  // namespace oos::queue
