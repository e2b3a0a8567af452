// The worker's built-in `search` task type (docs/reference.md section 6): payload {"query": "...", "num": 1-10,
// "start": 1-91}, run in-process by search::SearchClient, the answer's JSON (as `oos-search --json` prints
// it) kept as the task's result. Part of the oos_search library, so only oos-worker links libcurl.
#pragma once

#include "queue/task.hpp"
#include "search/client.hpp"
#include "worker/worker.hpp"

namespace oos::worker {

// The most a search task may take, requests and waits included: well inside the watchdog's half period
// (WatchdogSec=30 pings every 15 s, and a built-in runs inside one step of the loop), and at most half the
// queue's lease, which is not renewed while a built-in runs.
inline constexpr util::Millis k_search_task_budget{10'000};

// Runs one `search` task. A malformed payload, a bad request, a missing key or a provider that refuses us
// for good dead-letter the task (permanent); a spent quota or rate limiting is a temporary failure (no
// breaker count, retried after the queue's backoff); anything else (network, breakers, errors) is retried.
InProcessResult run_search_task(search::SearchClient& client, const queue::Task& task, const config::Config& config);

}  // namespace oos::worker
