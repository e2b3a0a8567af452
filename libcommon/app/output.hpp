// How the tools print queues and tasks: aligned text for people, JSON for scripts.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "keys/ring_status.hpp"
#include "policy/health.hpp"
#include "queue/queue_store.hpp"
#include "queue/task.hpp"
#include "queue/task_store.hpp"
#include "queue/worker_registry.hpp"
#include "search/quota_status.hpp"

namespace oos::app {

nlohmann::json to_json(const oos::queue::Task& task);
nlohmann::json to_json(const oos::queue::Attempt& attempt);
nlohmann::json to_json(const oos::queue::QueueStatus& status, util::UnixMillis now);
nlohmann::json to_json(const oos::queue::QueueStats& stats, util::UnixMillis now);
nlohmann::json to_json(const policy::BreakerRecord& breaker);

// The `--json` documents of the tools, which oos-api serves as they are (one schema for both, docs/reference.md
// section "HTTP API"). `oos-queue status`: {"queues": [...], "cooling_key_rings": [{"ring", "until", "handlers"}]}, the
// second the configured rings whose every key cools down (keys::waiting_rings).
nlohmann::json status_document(const std::vector<oos::queue::QueueStatus>& queues, util::UnixMillis now,
                               const std::vector<keys::RingWait>& cooling_rings = {});
// `oos-queue show` and `oos-retry show`: the task with its "attempt_history".
nlohmann::json task_document(const oos::queue::Task& task, const std::vector<oos::queue::Attempt>& attempts);
// `oos-queue breaker Q`: {"queue", "breaker"}.
nlohmann::json breaker_document(const std::string& queue, const policy::BreakerRecord& breaker);
// `oos-queue breaker Q --reset`: {"queue", "was", "breaker"}.
nlohmann::json breaker_reset_document(const std::string& queue, const policy::BreakerRecord& before,
                                      const policy::BreakerRecord& after);
// One line of `oos-queue enqueue --json`: {"id", "created", "queue", "type"}.
nlohmann::json enqueued_document(const oos::queue::EnqueueResult& result, const oos::queue::NewTask& task);
// `oos-queue claim --json`: the task (to_json) with "lease": {"token", "expires_at"}; null when none was claimed.
nlohmann::json claimed_document(const std::optional<oos::queue::ClaimedTask>& claimed);
// `oos-queue renew --json`: {"id", "lease": {"token", "expires_at"}}.
nlohmann::json lease_document(const oos::queue::Lease& lease);
// `oos-queue complete|fail --json`: {"id", "status": succeeded, pending (a retry) or dead, "retry_at" (a retry's
// run_at, else null)}.
nlohmann::json reported_document(oos::queue::TaskId id, oos::queue::TaskStatus status,
                                 std::optional<util::UnixMillis> retry_at);
// `oos-queue claim` as text: task_text() and the lease token.
std::string claimed_text(const oos::queue::ClaimedTask& claimed);
// `oos-queue pause|resume --json`: {"queue", "paused": the flag now, "changed": whether this call changed it}.
nlohmann::json paused_document(const std::string& queue, bool paused, bool changed);
// `oos-retry requeue --json`: {"requeued": [ids], "dry_run"}.
nlohmann::json requeued_document(const std::vector<oos::queue::TaskId>& ids, bool dry_run);
// `oos-health --json`: the overall status, the exit code, the summary line, the perfdata, every check and
// "key_rings": each ring a handler names, its keys by fingerprint at `now` (empty for `validate`).
nlohmann::json health_document(const std::vector<policy::HealthCheck>& checks, int exit_code,
                               const std::string& perfdata, const std::vector<policy::KeyRingHealth>& key_rings = {},
                               util::UnixMillis now = 0);
// `oos-search quota --json` and GET /api/v1/search/quota: {"providers": [...]}.
nlohmann::json quota_document(const std::vector<oos::search::ProviderStatus>& providers);
// GET /api/v1/workers: {"workers": [...]}, each heartbeat row with its age and the task it holds now.
nlohmann::json workers_document(const std::vector<oos::queue::WorkerRow>& workers,
                                const std::map<std::string, oos::queue::CurrentTask>& current, util::UnixMillis now);
// GET /api/v1/activity: {"queue", "minutes": [...], "hours": [...]}, each bucket {"start", "runs", "failures"}.
nlohmann::json activity_document(const std::optional<std::string>& queue, const oos::queue::Activity& activity);

std::string status_table(const std::vector<oos::queue::QueueStatus>& queues, util::UnixMillis now);
// The lines `oos-queue status` prints after its table, one per ring whose every key cools down: "key ring
// OPENROUTER_KEYS: every key cools down until TIME; tasks of handler llm wait until then". "" for none.
std::string cooling_rings_text(const std::vector<keys::RingWait>& cooling_rings);
std::string stats_text(const oos::queue::QueueStats& stats, util::UnixMillis now);
std::string task_table(const std::vector<oos::queue::Task>& tasks);
std::string task_text(const oos::queue::Task& task, const std::vector<oos::queue::Attempt>& attempts);
// Prints task `id` with its attempt history, as text or as one JSON document with "attempt_history".
// Throws oos::Error 66 when there is no such task.
void print_task(std::ostream& out, oos::queue::TaskStore& store, oos::queue::TaskId id, bool as_json);

std::string breaker_text(const std::string& queue, const policy::BreakerRecord& breaker, util::UnixMillis now);

// `text` with its control characters escaped, for text output of what handlers and users wrote (results,
// errors, payloads): newline, CR and tab as \n \r \t, other C0 controls and DEL as \x1b, the C1 controls
// of UTF-8 as \xc2\x9b. A terminal escape such as "\033]0;title\007" is shown, never obeyed. Everything else
// (also backslashes and valid UTF-8) is kept as it is.
std::string printable(std::string_view text);

// One JSON document for stdout. Task errors and results hold handler output, which may not be valid UTF-8:
// such bytes are printed as U+FFFD instead of failing the command.
std::string dump(const nlohmann::json& doc);

// "3m12s"-style age for the tables; "-" when absent.
std::string age(std::optional<util::UnixMillis> since, util::UnixMillis now);

}  // namespace oos::app
