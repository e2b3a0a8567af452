#include "db/schema.hpp"

#include <array>

namespace oos::db {
namespace {

// Version 1: the task queue, its attempt history, queue flags, breakers and the audit log.
constexpr const char* k_v1 = R"sql(
CREATE TABLE tasks (
  id               INTEGER PRIMARY KEY,
  queue            TEXT    NOT NULL,
  type             TEXT    NOT NULL,
  payload          TEXT    NOT NULL,
  -- Checks and partial-index conditions use OR, not IN: an IN list costs an ephemeral table per statement.
  status           TEXT    NOT NULL CHECK (status = 'pending' OR status = 'running' OR status = 'succeeded'
                                           OR status = 'dead' OR status = 'cancelled'),
  priority         INTEGER NOT NULL DEFAULT 0,
  run_at           INTEGER NOT NULL,
  attempts         INTEGER NOT NULL DEFAULT 0,
  max_attempts     INTEGER NOT NULL,
  unique_key       TEXT,
  lease_owner      TEXT,
  lease_token      TEXT,
  lease_expires_at INTEGER,
  started_at       INTEGER,
  last_error       TEXT,
  result           TEXT,
  replays          INTEGER NOT NULL DEFAULT 0,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  finished_at      INTEGER
);
-- The claim walks this index in claim order and stops at the first runnable task; queue and attempts make
-- it covering for the pending counts of `oos-queue status`.
CREATE INDEX tasks_claim ON tasks (priority DESC, run_at, id, queue, attempts) WHERE status = 'pending';
-- Running tasks, by lease expiry: the reclaim scan. It holds one entry per running task, so it stays small.
CREATE INDEX tasks_running ON tasks (lease_expires_at) WHERE status = 'running';
CREATE UNIQUE INDEX tasks_unique_active ON tasks (queue, unique_key)
  WHERE unique_key IS NOT NULL AND (status = 'pending' OR status = 'running');

-- One row per run. Keyed by task so a task's history is one range and completions append.
CREATE TABLE task_attempts (
  task_id    INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  attempt    INTEGER NOT NULL,
  queue      TEXT    NOT NULL,
  worker     TEXT,
  started_at INTEGER,
  ended_at   INTEGER NOT NULL,
  outcome    TEXT    NOT NULL,
  exit_code  INTEGER,
  error      TEXT,
  PRIMARY KEY (task_id, attempt)
) WITHOUT ROWID;

-- Counters, so that status and metrics never count finished tasks row by row. Row minute = 0 holds the
-- number of tasks now in each finished state (kept by the triggers below); rows minute > 0 hold the runs,
-- failures and run time of one Unix minute (written by the task store, pruned after a day).
CREATE TABLE queue_counters (
  queue     TEXT    NOT NULL,
  minute    INTEGER NOT NULL,
  succeeded INTEGER NOT NULL DEFAULT 0,
  dead      INTEGER NOT NULL DEFAULT 0,
  cancelled INTEGER NOT NULL DEFAULT 0,
  runs      INTEGER NOT NULL DEFAULT 0,
  failures  INTEGER NOT NULL DEFAULT 0,
  run_ms    INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (queue, minute)
) WITHOUT ROWID;

CREATE TRIGGER tasks_count_finished AFTER UPDATE OF status ON tasks
WHEN (NEW.status = 'succeeded' OR NEW.status = 'dead' OR NEW.status = 'cancelled') AND OLD.status != NEW.status
BEGIN
  INSERT INTO queue_counters (queue, minute, succeeded, dead, cancelled)
  VALUES (NEW.queue, 0, NEW.status = 'succeeded', NEW.status = 'dead', NEW.status = 'cancelled')
  ON CONFLICT (queue, minute) DO UPDATE SET succeeded = succeeded + excluded.succeeded,
    dead = dead + excluded.dead, cancelled = cancelled + excluded.cancelled;
END;

CREATE TRIGGER tasks_count_reopened AFTER UPDATE OF status ON tasks
WHEN (OLD.status = 'succeeded' OR OLD.status = 'dead' OR OLD.status = 'cancelled') AND OLD.status != NEW.status
BEGIN
  UPDATE queue_counters SET succeeded = succeeded - (OLD.status = 'succeeded'), dead = dead - (OLD.status = 'dead'),
    cancelled = cancelled - (OLD.status = 'cancelled') WHERE queue = OLD.queue AND minute = 0;
END;

CREATE TRIGGER tasks_count_deleted AFTER DELETE ON tasks
WHEN OLD.status = 'succeeded' OR OLD.status = 'dead' OR OLD.status = 'cancelled'
BEGIN
  UPDATE queue_counters SET succeeded = succeeded - (OLD.status = 'succeeded'), dead = dead - (OLD.status = 'dead'),
    cancelled = cancelled - (OLD.status = 'cancelled') WHERE queue = OLD.queue AND minute = 0;
END;

-- Every queue that ever had a task (registered by enqueue), with its paused flag.
CREATE TABLE queues (
  name       TEXT PRIMARY KEY,
  paused     INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE breakers (
  kind                 TEXT    NOT NULL,
  name                 TEXT    NOT NULL,
  state                TEXT    NOT NULL CHECK (state = 'closed' OR state = 'open' OR state = 'half_open'),
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  opened_at            INTEGER,
  cooldown_ms          INTEGER NOT NULL,
  updated_at           INTEGER NOT NULL,
  PRIMARY KEY (kind, name)
) WITHOUT ROWID;

CREATE TABLE events (
  id      INTEGER PRIMARY KEY,
  at      INTEGER NOT NULL,
  kind    TEXT    NOT NULL,
  object  TEXT    NOT NULL,
  detail  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX events_at ON events (at);
)sql";

// Version 2: what the scaler and the health check watch. `samples` holds one row per oos-scale run, so that
// a condition "for the whole load window" holds across separate oneshot runs (pruned by oos-scale);
// `workers` holds one row per running worker, written by its loop every worker::k_heartbeat_interval and
// deleted when it exits cleanly (a row whose heartbeat is old is a worker that died or hangs).
constexpr const char* k_v2 = R"sql(
CREATE TABLE samples (
  id                       INTEGER PRIMARY KEY,
  at                       INTEGER NOT NULL,
  load1                    REAL    NOT NULL,
  memory_available_percent REAL    NOT NULL,
  psi_some_avg10           REAL,
  runnable                 INTEGER NOT NULL
);
CREATE INDEX samples_at ON samples (at);

CREATE TABLE workers (
  name         TEXT    PRIMARY KEY,
  pid          INTEGER NOT NULL,
  host         TEXT    NOT NULL,
  started_at   INTEGER NOT NULL,
  heartbeat_at INTEGER NOT NULL,
  status       TEXT    NOT NULL DEFAULT '',
  tasks_run    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
)sql";

// Version 3: what the search client shares between processes. `rate_limits` holds one row per provider: the
// day's quota use (the day key in the provider's reset zone) and the pacing bucket (tokens at tokens_at),
// updated inside one write transaction per request, so that concurrent processes never overspend.
// `search_cache` holds one page of results per normalised query, num and start.
constexpr const char* k_v3 = R"sql(
CREATE TABLE rate_limits (
  provider  TEXT    PRIMARY KEY,
  day       TEXT    NOT NULL,
  used      INTEGER NOT NULL DEFAULT 0,
  exhausted INTEGER NOT NULL DEFAULT 0,
  tokens    REAL    NOT NULL,
  tokens_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE search_cache (
  query      TEXT    NOT NULL,
  num        INTEGER NOT NULL,
  start      INTEGER NOT NULL,
  provider   TEXT    NOT NULL,
  page       TEXT    NOT NULL,
  fetched_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (query, num, start)
) WITHOUT ROWID;
CREATE INDEX search_cache_fetched ON search_cache (fetched_at);
)sql";

// Version 4: every run stays in a task's history. Rows were keyed by (task_id, attempt), and `oos-retry` resets
// the attempt count, so a replay's runs replaced the earlier ones. Rows are now keyed by the run's place in the
// task's history (`run`, 1, 2, ...) and carry the replay they belonged to. Rows kept from version 3 are put in
// the order they ended. A row belongs to the current replay when the task has reached its attempt number (and,
// for the attempt now running, when that run has ended); older rows are the ones a later replay did not reach
// and get the replay before (which earlier replay they came from is not recorded; the rows a replay overwrote
// are gone).
constexpr const char* k_v4 = R"sql(
CREATE TABLE task_attempts_v4 (
  task_id    INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  run        INTEGER NOT NULL,
  replay     INTEGER NOT NULL,
  attempt    INTEGER NOT NULL,
  queue      TEXT    NOT NULL,
  worker     TEXT,
  started_at INTEGER,
  ended_at   INTEGER NOT NULL,
  outcome    TEXT    NOT NULL,
  exit_code  INTEGER,
  error      TEXT,
  PRIMARY KEY (task_id, run)
) WITHOUT ROWID;
INSERT INTO task_attempts_v4 (task_id, run, replay, attempt, queue, worker, started_at, ended_at, outcome, exit_code,
                              error)
SELECT a.task_id, row_number() OVER (PARTITION BY a.task_id ORDER BY a.ended_at, a.attempt),
       CASE WHEN a.attempt < t.attempts OR (a.attempt = t.attempts AND t.status != 'running') THEN t.replays
            ELSE max(t.replays - 1, 0) END,
       a.attempt, a.queue, a.worker, a.started_at, a.ended_at, a.outcome, a.exit_code, a.error
FROM task_attempts a JOIN tasks t ON t.id = a.task_id;
DROP TABLE task_attempts;
ALTER TABLE task_attempts_v4 RENAME TO task_attempts;
)sql";

// Version 5: status reads counts instead of counting rows (a scan of the pending tasks took 0.14 s at 1M).
// `queue_counts` holds, per queue and status, the number of tasks (n) and how many of them ran before
// (retried: attempts > 0; for pending tasks, the retries). Triggers on `tasks` keep it: every statement that
// inserts, deletes or changes a task's status, queue or attempts changes the counts in the same statement, so
// in the same transaction: a crash or a rollback keeps both or neither, and no code path can forget them. They
// replace version 1's finished-state triggers and columns of `queue_counters` (which keeps the run totals).
// `tasks_pending_by_queue` answers what is not a count: the oldest pending task of a queue (its first entry)
// and the delayed ones (the range after now), without walking the queue's runnable tasks.
constexpr const char* k_v5 = R"sql(
DROP TRIGGER tasks_count_finished;
DROP TRIGGER tasks_count_reopened;
DROP TRIGGER tasks_count_deleted;
ALTER TABLE queue_counters DROP COLUMN succeeded;
ALTER TABLE queue_counters DROP COLUMN dead;
ALTER TABLE queue_counters DROP COLUMN cancelled;

CREATE TABLE queue_counts (
  queue   TEXT    NOT NULL,
  status  TEXT    NOT NULL,
  n       INTEGER NOT NULL DEFAULT 0,
  retried INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (queue, status)
) WITHOUT ROWID;
INSERT INTO queue_counts (queue, status, n, retried)
SELECT queue, status, count(*), sum(attempts > 0) FROM tasks GROUP BY queue, status;

CREATE TRIGGER tasks_counts_inserted AFTER INSERT ON tasks
BEGIN
  INSERT INTO queue_counts (queue, status, n, retried) VALUES (NEW.queue, NEW.status, 1, NEW.attempts > 0)
  ON CONFLICT (queue, status) DO UPDATE SET n = n + 1, retried = retried + excluded.retried;
END;

CREATE TRIGGER tasks_counts_deleted AFTER DELETE ON tasks
BEGIN
  UPDATE queue_counts SET n = n - 1, retried = retried - (OLD.attempts > 0)
  WHERE queue = OLD.queue AND status = OLD.status;
END;

CREATE TRIGGER tasks_counts_updated AFTER UPDATE OF status, queue, attempts ON tasks
WHEN OLD.status != NEW.status OR OLD.queue != NEW.queue OR (OLD.attempts > 0) != (NEW.attempts > 0)
BEGIN
  UPDATE queue_counts SET n = n - 1, retried = retried - (OLD.attempts > 0)
  WHERE queue = OLD.queue AND status = OLD.status;
  INSERT INTO queue_counts (queue, status, n, retried) VALUES (NEW.queue, NEW.status, 1, NEW.attempts > 0)
  ON CONFLICT (queue, status) DO UPDATE SET n = n + 1, retried = retried + excluded.retried;
END;

CREATE INDEX tasks_pending_by_queue ON tasks (queue, run_at) WHERE status = 'pending';
)sql";

// Version 6: the same counts, kept with plain UPDATEs. Version 5's triggers added a task with an upsert
// (INSERT ... ON CONFLICT DO UPDATE) into `queue_counts`; on a WITHOUT ROWID table SQLite codes that upsert as
// able to abort, and a statement that fires a trigger and may abort runs in a statement journal: every page the
// claim's or the completion's UPDATE changed was copied aside first (with the upsert itself, about a fifth of
// what the counts cost a claim + complete). Now every queue that has a row has all five (the migration adds the
// missing ones, zero; a BEFORE INSERT trigger adds them for the first task of a new queue, before the AFTER
// triggers run), so adding to a count is an UPDATE of a row that exists. A change of queue (no command makes
// one) has a trigger of its own, which adds the new queue's rows first. The store's hot writes say OR FAIL
// (queue/task_store.cpp), which with these triggers needs no statement journal. And QueueStore::dead_since
// gets an index of the dead tasks by when they died.
constexpr const char* k_v6 = R"sql(
INSERT OR IGNORE INTO queue_counts (queue, status, n, retried)
SELECT q.queue, s.status, 0, 0 FROM (SELECT DISTINCT queue FROM queue_counts) q,
  (SELECT 'pending' AS status UNION ALL SELECT 'running' UNION ALL SELECT 'succeeded' UNION ALL SELECT 'dead'
   UNION ALL SELECT 'cancelled') s;

DROP TRIGGER tasks_counts_inserted;
DROP TRIGGER tasks_counts_updated;

CREATE TRIGGER tasks_counts_queue_rows BEFORE INSERT ON tasks
WHEN NOT EXISTS (SELECT 1 FROM queue_counts WHERE queue = NEW.queue AND status = 'pending')
BEGIN
  INSERT INTO queue_counts (queue, status, n, retried) VALUES (NEW.queue, 'pending', 0, 0),
    (NEW.queue, 'running', 0, 0), (NEW.queue, 'succeeded', 0, 0), (NEW.queue, 'dead', 0, 0),
    (NEW.queue, 'cancelled', 0, 0);
END;

CREATE TRIGGER tasks_counts_inserted AFTER INSERT ON tasks
BEGIN
  UPDATE queue_counts SET n = n + 1, retried = retried + (NEW.attempts > 0)
  WHERE queue = NEW.queue AND status = NEW.status;
END;

CREATE TRIGGER tasks_counts_updated AFTER UPDATE OF status, attempts ON tasks
WHEN OLD.queue = NEW.queue AND (OLD.status != NEW.status OR (OLD.attempts > 0) != (NEW.attempts > 0))
BEGIN
  UPDATE queue_counts SET n = n - 1, retried = retried - (OLD.attempts > 0)
  WHERE queue = OLD.queue AND status = OLD.status;
  UPDATE queue_counts SET n = n + 1, retried = retried + (NEW.attempts > 0)
  WHERE queue = NEW.queue AND status = NEW.status;
END;

CREATE TRIGGER tasks_counts_moved AFTER UPDATE OF queue ON tasks
WHEN OLD.queue != NEW.queue
BEGIN
  UPDATE queue_counts SET n = n - 1, retried = retried - (OLD.attempts > 0)
  WHERE queue = OLD.queue AND status = OLD.status;
  INSERT INTO queue_counts (queue, status, n, retried)
  SELECT NEW.queue, column1, 0, 0 FROM (VALUES ('pending'), ('running'), ('succeeded'), ('dead'), ('cancelled'))
  WHERE NOT EXISTS (SELECT 1 FROM queue_counts WHERE queue = NEW.queue AND status = 'pending');
  UPDATE queue_counts SET n = n + 1, retried = retried + (NEW.attempts > 0)
  WHERE queue = NEW.queue AND status = NEW.status;
END;

-- The tasks that died since a time, per queue (oos-health's recent dead letters): a range of this index instead
-- of a scan of every task. It holds the dead tasks only, so the claim and the completion never write it.
CREATE INDEX tasks_dead_by_finished ON tasks (finished_at, queue) WHERE status = 'dead';
)sql";

// Version 7: key rings (keys/): one row per key of a ring, known by its fingerprint only (never the key), and the
// installation's random fingerprint key, made by the first worker that hands out a key.
constexpr const char* k_v7 = R"sql(
CREATE TABLE key_ring_keys (
  ring           TEXT    NOT NULL,
  fingerprint    TEXT    NOT NULL,
  last_used_at   INTEGER,
  cooldown_until INTEGER NOT NULL DEFAULT 0,
  uses_today     INTEGER NOT NULL DEFAULT 0,
  day            INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (ring, fingerprint)
) WITHOUT ROWID;

CREATE TABLE key_ring_installation (
  one INTEGER PRIMARY KEY CHECK (one = 1),
  fingerprint_key TEXT NOT NULL
);
)sql";

constexpr std::array<Migration, 7> k_migrations{
    {{1, k_v1}, {2, k_v2}, {3, k_v3}, {4, k_v4}, {5, k_v5}, {6, k_v6}, {7, k_v7}}};

}  // namespace

std::span<const Migration> migrations() {
  return k_migrations;
}

int latest_schema_version() {
  return k_migrations.back().version;
}

}  // namespace oos::db
