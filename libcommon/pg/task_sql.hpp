// The statements of PgTaskStore that the tests EXPLAIN (pg/pg_task_store.cpp runs them). Internal to pg/.
#pragma once

namespace oos::pg::sql {

// Columns read by read_task() (pg_task_rows.hpp), in order.
#define OOS_PG_TASK_COLUMNS                                                                               \
  "id, queue, type, payload, status, priority, run_at, attempts, max_attempts, unique_key, lease_owner, " \
  "lease_expires_at, last_error, result, replays, created_at, updated_at, finished_at"

// The claim, in one statement: the first runnable task of the eligible queues in claim order that no other
// claimer holds (SKIP LOCKED: claimers pass each other's rows instead of queueing on them), leased at once.
// $1 now, $2 eligible queues (text[]), $3 worker, $4 lease token, $5 and $6 the lease length of each queue
// (text[] and bigint[], in parallel).
inline constexpr const char* k_claim =
    "WITH next AS (SELECT id AS next_id FROM tasks WHERE status = 'pending' AND run_at <= $1::bigint AND queue = "
    "ANY($2::text[]) "
    "ORDER BY priority DESC, run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
    "UPDATE tasks SET status = 'running', attempts = tasks.attempts + 1, lease_owner = $3, lease_token = $4, "
    "lease_expires_at = $1::bigint + (SELECT l.ms FROM unnest($5::text[], $6::bigint[]) AS l (queue, ms) "
    "WHERE l.queue = tasks.queue LIMIT 1), started_at = $1::bigint, updated_at = $1::bigint "
    "FROM next WHERE tasks.id = next.next_id RETURNING " OOS_PG_TASK_COLUMNS;

// The running tasks whose lease expired before $1, locked; rows a completion holds are skipped (it decides them),
// and a lease renewed meanwhile no longer matches once the row is read again under the lock.
inline constexpr const char* k_expired =
    "SELECT id, queue, attempts, max_attempts, started_at, lease_owner, replays FROM tasks "
    "WHERE status = 'running' AND lease_expires_at < $1::bigint ORDER BY lease_expires_at FOR UPDATE SKIP LOCKED";

}  // namespace oos::pg::sql
