// The statements of PgQueueStore and PgWorkerRegistry that the tests EXPLAIN (pg/pg_queue_store.cpp and
// pg/pg_worker_registry.cpp run them). Internal to pg/.
#pragma once

namespace oos::pg::sql {

// The task counts of status and stats, per queue and status, with no count table to read (pg/schema.cpp says
// why): each part is served by a partial index of its status. Pending: pending, runnable (run_at <= now),
// retrying (attempts > 0) and the oldest runnable run_at, from tasks_pending_by_queue alone (it includes attempts);
// running: tasks_running (one entry per running task); finished: tasks_finished_by_queue. $1 now, $2 one queue
// or NULL for every queue. Columns: queue, status, n, runnable, retrying, oldest runnable run_at (NULL if none).
inline constexpr const char* k_status_counts =
    "SELECT queue, 'pending', count(*), count(*) FILTER (WHERE run_at <= $1::bigint), "
    "count(*) FILTER (WHERE attempts > 0), min(run_at) FILTER (WHERE run_at <= $1::bigint) "
    "FROM tasks WHERE status = 'pending' AND ($2::text IS NULL OR queue = $2::text) GROUP BY queue "
    "UNION ALL "
    "SELECT queue, 'running', count(*), 0, 0, NULL::bigint "
    "FROM tasks WHERE status = 'running' AND ($2::text IS NULL OR queue = $2::text) GROUP BY queue "
    "UNION ALL "
    "SELECT queue, status, count(*), 0, 0, NULL::bigint FROM tasks "
    "WHERE status IN ('succeeded', 'dead', 'cancelled') AND ($2::text IS NULL OR queue = $2::text) "
    "GROUP BY queue, status";

// Per queue, the tasks dead since $1 that are still dead: a range of tasks_dead_by_finished (finished_at, queue).
inline constexpr const char* k_dead_since =
    "SELECT queue, count(*) FROM tasks WHERE status = 'dead' AND finished_at >= $1::bigint GROUP BY queue";

// The running tasks by id (lease owner, id, queue, type), from tasks_running: the dashboard asks on every refresh.
inline constexpr const char* k_current_tasks =
    "SELECT lease_owner, id, queue, type FROM tasks WHERE status = 'running' ORDER BY id";

}  // namespace oos::pg::sql
