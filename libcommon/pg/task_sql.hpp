// The statements of PgTaskStore that the tests EXPLAIN, and the pieces its statements share (pg/pg_task_store.cpp
// runs them). Internal to pg/.
#pragma once

#include <string>

namespace oos::pg::sql {

// Columns read by read_task() (pg_task_rows.hpp), in order.
#define OOS_PG_TASK_COLUMNS                                                                               \
  "id, queue, type, payload, status, priority, run_at, attempts, max_attempts, unique_key, lease_owner, " \
  "lease_expires_at, last_error, result, replays, created_at, updated_at, finished_at"

// The columns of a running task that recording its run needs (PgTaskStore::RunningRow), in order. `runs` is the
// number of runs recorded, the one being recorded included when a `done` CTE returns it (OOS_PG_COUNT_RUN).
#define OOS_PG_RUNNING_COLUMNS "id, queue, attempts, max_attempts, started_at, lease_owner, replays, runs"

// The SET clause of every `done` CTE below: the run being recorded is the task's next (schema version 5).
#define OOS_PG_COUNT_RUN "runs = tasks.runs + 1"

// The kind of the queues' breakers in the `breakers` table (PgTaskStore's; the search client's are its providers').
#define OOS_PG_QUEUE_BREAKER_KIND "queue"

// The CTE `done`: the fenced completion of a running task (OOS_PG_RUNNING_COLUMNS; no row when the fence is stale).
// $1 now, $6 result, $7 task id, $8 its lease token. Only a running task holds a token (the schema's CHECK
// tasks_lease_only_while_running), so the token is the whole fence: a `status = 'running'` here would let the
// planner of a function's generic plan walk every running task through tasks_running instead of reading one row
// by the primary key, which it chose once the statistics had seen none running (docs/decisions.md).
#define OOS_PG_COMPLETED                                                                                     \
  "done AS (UPDATE tasks SET status = 'succeeded', " OOS_PG_COUNT_RUN                                        \
  ", result = $6, finished_at = $1::bigint, "                                                                \
  "updated_at = $1::bigint, lease_token = NULL, lease_expires_at = NULL WHERE id = $7 AND lease_token = $8 " \
  "RETURNING " OOS_PG_RUNNING_COLUMNS ")"

// Joins the breaker of the `done` task's queue as `b` (OOS_PG_BREAKER_COLUMNS; NULLs when it has no row): a lookup
// by key, never a hash join that the generic plan of a function would build on every call.
#define OOS_PG_BREAKER_OF_DONE                                                         \
  "LEFT JOIN LATERAL (SELECT * FROM breakers WHERE kind = '" OOS_PG_QUEUE_BREAKER_KIND \
  "' AND name = done.queue LIMIT 1) "                                                  \
  "AS b ON true"

// Records the run of the task that the statement's CTE `done` (OOS_PG_RUNNING_COLUMNS) finished: its attempt,
// numbered by the task's count of runs (OOS_PG_COUNT_RUN: the row lock on the task orders its runs; no read of
// task_attempts, whose plan would depend on its statistics), and its count in the minute's row of
// this connection's shard of queue_counters (pg/schema.cpp). Two CTEs, `attempt` and `counted`, for a statement
// "WITH done AS (...), " OOS_PG_RECORD_RUN " SELECT ...": in the same statement, one round trip for the run.
// $1 now, $2 outcome, $3 exit code, $4 error, $5 1 for a failure and 0 for a success.
#define OOS_PG_RECORD_RUN                                                                                       \
  "attempt AS (INSERT INTO task_attempts (task_id, run, replay, attempt, queue, worker, started_at, ended_at, " \
  "outcome, exit_code, error) SELECT id, runs, replays, attempts, queue, lease_owner, started_at, $1::bigint, " \
  "$2, $3::integer, $4 FROM done), "                                                                            \
  "counted AS (INSERT INTO queue_counters (queue, minute, shard, runs, failures, run_ms) SELECT queue, "        \
  "$1::bigint / 60000, pg_backend_pid() % 16, 1, $5::bigint, greatest(0, $1::bigint - coalesce(started_at, "    \
  "$1::bigint)) FROM done ON CONFLICT (queue, minute, shard) DO UPDATE SET runs = queue_counters.runs + 1, "    \
  "failures = queue_counters.failures + excluded.failures, run_ms = queue_counters.run_ms + excluded.run_ms) "

// The claim, in one statement: for each queue that is not paused, its first runnable task in claim order that no
// other claimer holds (SKIP LOCKED: claimers pass each other's rows instead of queueing on them), read from the head
// of the queue's part of tasks_claim; of those, the first in claim order is leased at once. One index walk per queue
// and no sort of the backlog, whatever the statistics say (a sort of every runnable task per claim is what the
// planner chose with the statistics of a table that had just received its backlog: docs/decisions.md). The heads
// of the other queues stay locked until the commit, and other claimers pass them meanwhile.
// $1 now, $2 the queues the breakers admit (text[]), $3 worker, $4 lease token, $5 the lease length of each queue
// (bigint[], in the order of $2). Returns the task (OOS_PG_TASK_COLUMNS), or no row.
const std::string& claim();

// claim() of the queues $2 that their breakers admit, in one statement that reads them, unless one of them is due a
// probe: a queue whose breaker is half open or still cooling down is passed over (policy::admit() denies it), so a
// worker needs a second round trip only when a probe may be due, not for every claim while a breaker is open. One
// row: the number of breakers due a probe, then the task's columns (NULL when none was claimed; always when the
// number is not 0: the caller decides admission and probes under the breakers' locks, then runs claim()).
// Parameters as claim()'s.
const std::string& claim_unless_breaker();

// A fenced completion, its run recorded (OOS_PG_RECORD_RUN), and claim_unless_breaker(), in one statement: one
// round trip and one commit per task unless a breaker of the worker's queues is due a probe. $1-$5 as
// OOS_PG_RECORD_RUN reads them, $6-$8 as OOS_PG_COMPLETED, $9-$12 claim()'s $2-$5 (its now is $1). One row: the
// completed task (OOS_PG_RUNNING_COLUMNS; NULL when the fence was stale), its queue's breaker
// (OOS_PG_BREAKER_COLUMNS, NULL when the breaker has no row), the number of breakers due a probe as in
// claim_unless_breaker(), then the claimed task's columns.
const std::string& complete_and_claim();

// The three statements above as functions of the schema (PL/pgSQL, created by define_functions() in the schema's
// migrations), and the calls that run them: "SELECT * FROM oos_claim($1, ...)", with the statement's parameters and
// result columns. A function's statement is planned once per connection (PL/pgSQL keeps its plan), where the
// statement sent itself is planned on every call: the planning was half of the server's time per task
// (docs/decisions.md). Each call is still one unnamed statement, so a transaction-pooling PgBouncer works.
const std::string& call_claim();
const std::string& call_claim_unless_breaker();
const std::string& call_complete_and_claim();

// DROP and CREATE of each function from this build's statements, for a migration (pg/schema.cpp): a migration that
// changes one of the statements above runs define_functions() again (test_pg_task_store checks its fingerprint).
std::string define_functions();

// The running tasks whose lease expired before $1, locked; rows a completion holds are skipped (it decides them),
// and a lease renewed meanwhile no longer matches once the row is read again under the lock.
inline constexpr const char* k_expired =
    "SELECT " OOS_PG_RUNNING_COLUMNS
    " FROM tasks "
    "WHERE status = 'running' AND lease_expires_at < $1::bigint ORDER BY lease_expires_at FOR UPDATE SKIP LOCKED";

}  // namespace oos::pg::sql
