// External workers (docs/reference.md section 8.1, `oos-queue claim`, `complete`, `fail`, `renew`): programs that
// pull a task, run it themselves and report its end with the lease token, through the TaskStore a worker uses, so
// that pause, breakers, fencing, retries and the attempt history are the worker's on either backend.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "error.hpp"
#include "queue/task.hpp"
#include "queue/task_store.hpp"
#include "util/child_process.hpp"
#include "util/duration.hpp"
#include "util/time.hpp"

namespace oos::queue {

// The largest --result a completion takes: as much as a worker keeps of a handler's stdout.
inline constexpr std::size_t k_max_external_result = util::ChildSpec{}.stdout_cap;
// The most of a --error that is kept (as much as a worker keeps of a handler's stderr); the rest is cut off.
inline constexpr std::size_t k_max_external_error = util::ChildSpec{}.stderr_tail;

// The worker name of a claim without --worker: "external:HOST:PID", the host's characters outside the name rule
// as '_', cut to the 64 characters a name may have.
std::string default_external_worker(std::string_view host, long pid);

// Takes back the expired leases (as a worker does every third of a lease: the runs count as lost attempts), then
// claims the next runnable task of `queue` for `worker`, the lease lasting `lease_for` or the queue's lease.
// nullopt when nothing is runnable (also when the queue is paused or its breaker open).
std::optional<ClaimedTask> claim_external(TaskStore& store, const std::string& queue, std::string_view worker,
                                          std::optional<util::Millis> lease_for);

// Error 65 for a --result (text or @FILE) over k_max_external_result, saying what to pass instead.
Error external_result_too_large();

// Throws oos::Error 65 unless `result` is one JSON document of at most k_max_external_result bytes.
void check_external_result(std::string_view result);

// `error` cut to k_max_external_error bytes (at a UTF-8 character's start).
std::string cut_external_error(std::string_view error);

// Marks task `id` succeeded with `result` if `token` is its current lease token and the lease has not expired (an
// expired lease is taken back by the next claim or worker, as a lost run). Throws oos::Error 66 when there is no
// such task, 69 naming the task and the cause (at `clock`'s time) when the token does not hold it: nothing changes.
void complete_external(TaskStore& store, TaskId id, const std::string& token, std::string_view result,
                       const util::Clock& clock);

// Records a failed run of task `id` (`failure`: retryable, or permanent for --permanent) as a worker's failure
// is: a retry after the backoff or the dead letter queue. Fenced and refused as complete_external().
FailOutcome fail_external(TaskStore& store, TaskId id, const std::string& token, const Failure& failure,
                          const util::Clock& clock);

// Extends task `id`'s lease to `lease_for` (else its queue's lease) from now; the lease as it is now. Fenced and
// refused as complete_external().
Lease renew_external(TaskStore& store, TaskId id, const std::string& token, std::optional<util::Millis> lease_for,
                     const util::Clock& clock);

}  // namespace oos::queue
