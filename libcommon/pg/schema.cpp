#include "pg/schema.hpp"

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "pg/task_sql.hpp"
#include "pg/values.hpp"

namespace oos::pg {
namespace {

// The key of the advisory lock every migration holds ("OOS_MIGR" in ASCII): hosts starting together queue on it.
constexpr std::int64_t k_migration_lock = 0x4f4f535f4d494752;

struct Migration {
  int version;
  std::string sql;
};

// Version 1: every table of the SQLite model (db/schema.cpp, its version 6) that the stores need, translated:
// millisecond timestamps are bigint, ids identities, flags boolean. What differs on purpose says why.
constexpr const char* k_v1 = R"sql(
CREATE TABLE tasks (
  id               bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  queue            text    NOT NULL,
  type             text    NOT NULL,
  payload          text    NOT NULL,
  status           text    NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'dead', 'cancelled')),
  priority         integer NOT NULL DEFAULT 0,
  run_at           bigint  NOT NULL,
  attempts         integer NOT NULL DEFAULT 0,
  max_attempts     integer NOT NULL,
  unique_key       text,
  lease_owner      text,
  lease_token      text,
  lease_expires_at bigint,
  started_at       bigint,
  last_error       text,
  result           text,
  replays          integer NOT NULL DEFAULT 0,
  created_at       bigint  NOT NULL,
  updated_at       bigint  NOT NULL,
  finished_at      bigint
);
-- The claim walks each of its queues' part of this index in claim order (FOR UPDATE SKIP LOCKED LIMIT 1) and
-- stops at the first runnable task that no other claimer holds. The queue leads, so that the walk needs no sort
-- whatever the planner's statistics (see pg/task_sql.hpp). Only pending tasks are in it: it is as small as the
-- backlog.
CREATE INDEX tasks_claim ON tasks (queue, priority DESC, run_at, id) WHERE status = 'pending';
-- Running tasks by lease expiry: the reclaim scan; one entry per running task.
CREATE INDEX tasks_running ON tasks (lease_expires_at) WHERE status = 'running';
-- One pending or running task per (queue, unique key): the arbiter of enqueue's ON CONFLICT DO NOTHING.
CREATE UNIQUE INDEX tasks_unique_active ON tasks (queue, unique_key)
  WHERE unique_key IS NOT NULL AND status IN ('pending', 'running');
-- A queue's tasks newest first (oos-queue list, keyset pages by id).
CREATE INDEX tasks_by_queue ON tasks (queue, id);
-- A queue's pending tasks by run_at: the runnable count (a range up to now), the next due task, the delayed ones.
-- No trigger-kept count table as on SQLite (below), so counts read this index. `attempts` is included so that
-- status counts the pending, runnable and retrying tasks from the index alone (an index-only scan).
CREATE INDEX tasks_pending_by_queue ON tasks (queue, run_at) INCLUDE (attempts) WHERE status = 'pending';
-- The finished tasks by queue and status: status counts them from this index (an index-only scan of entries that
-- deduplicate to about 6 bytes each) instead of reading the table. Still a walk of every finished task: see
-- pg/pg_queue_store.cpp for what status costs with many of them. Its write is one entry more in the update that
-- finishes a task, which is never HOT anyway (status is in the partial indexes' predicates).
CREATE INDEX tasks_finished_by_queue ON tasks (queue, status) WHERE status IN ('succeeded', 'dead', 'cancelled');
-- The dead tasks by when they died (health's recent dead letters, purge); the claim and completion never write it.
CREATE INDEX tasks_dead_by_finished ON tasks (finished_at, queue) WHERE status = 'dead';

-- No count triggers and no queue_counts table, unlike SQLite: a count row per queue and status is one hot row that
-- every claim and completion of every host would have to lock, serialising the workers that SKIP LOCKED lets run
-- in parallel. Counts are computed from the indexes above instead.

-- One row per run, keyed by its place in the task's history (run 1, 2, ...), with the replay it belonged to.
CREATE TABLE task_attempts (
  task_id    bigint  NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  run        integer NOT NULL,
  replay     integer NOT NULL,
  attempt    integer NOT NULL,
  queue      text    NOT NULL,
  worker     text,
  started_at bigint,
  ended_at   bigint  NOT NULL,
  outcome    text    NOT NULL,
  exit_code  integer,
  error      text,
  PRIMARY KEY (task_id, run)
);

-- Runs, failures and run time per queue and Unix minute (minute 0: the totals folded from minutes older than a
-- day). `shard` is in the key, unlike SQLite: the completions of one minute would otherwise all lock one row per
-- queue; each connection writes the shard of its backend (pg_backend_pid() % 16), and readers sum the shards.
CREATE TABLE queue_counters (
  queue    text     NOT NULL,
  minute   bigint   NOT NULL,
  shard    smallint NOT NULL,
  runs     bigint   NOT NULL DEFAULT 0,
  failures bigint   NOT NULL DEFAULT 0,
  run_ms   bigint   NOT NULL DEFAULT 0,
  PRIMARY KEY (queue, minute, shard)
);

-- Every queue that ever had a task (registered by enqueue), with its paused flag.
CREATE TABLE queues (
  name       text    PRIMARY KEY,
  paused     boolean NOT NULL DEFAULT false,
  updated_at bigint  NOT NULL
);

CREATE TABLE breakers (
  kind                 text    NOT NULL,
  name                 text    NOT NULL,
  state                text    NOT NULL CHECK (state IN ('closed', 'open', 'half_open')),
  consecutive_failures integer NOT NULL DEFAULT 0,
  opened_at            bigint,
  cooldown_ms          bigint  NOT NULL,
  updated_at           bigint  NOT NULL,
  PRIMARY KEY (kind, name)
);

CREATE TABLE events (
  id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at     bigint NOT NULL,
  kind   text   NOT NULL,
  object text   NOT NULL,
  detail text   NOT NULL DEFAULT ''
);
CREATE INDEX events_at ON events (at);

-- One row per oos-scale run (the load window across oneshot runs).
CREATE TABLE samples (
  id                       bigint           GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at                       bigint           NOT NULL,
  load1                    double precision NOT NULL,
  memory_available_percent double precision NOT NULL,
  psi_some_avg10           double precision,
  runnable                 bigint           NOT NULL
);
CREATE INDEX samples_at ON samples (at);

-- One row per running worker, its heartbeat written by its loop; `host` tells the hosts sharing the queue apart.
CREATE TABLE workers (
  name         text    PRIMARY KEY,
  pid          integer NOT NULL,
  host         text    NOT NULL,
  started_at   bigint  NOT NULL,
  heartbeat_at bigint  NOT NULL,
  status       text    NOT NULL DEFAULT '',
  tasks_run    bigint  NOT NULL DEFAULT 0
);

-- The search client's quota day and pacing bucket per provider, and its cache of result pages.
CREATE TABLE rate_limits (
  provider   text             PRIMARY KEY,
  day        text             NOT NULL,
  used       bigint           NOT NULL DEFAULT 0,
  exhausted  boolean          NOT NULL DEFAULT false,
  tokens     double precision NOT NULL,
  tokens_at  bigint           NOT NULL,
  updated_at bigint           NOT NULL
);

CREATE TABLE search_cache (
  query      text    NOT NULL,
  num        integer NOT NULL,
  start      integer NOT NULL,
  provider   text    NOT NULL,
  page       text    NOT NULL,
  fetched_at bigint  NOT NULL,
  expires_at bigint  NOT NULL,
  PRIMARY KEY (query, num, start)
);
CREATE INDEX search_cache_fetched ON search_cache (fetched_at);
)sql";

// Version 2: oos-scale runs on PostgreSQL (issue 16). Each host keeps its own load history in the shared table, so a
// sample names its host; rows a version 1 database holds (none: oos-scale refused to run there) get an empty name.
constexpr const char* k_v2 = R"sql(
ALTER TABLE samples ADD COLUMN host text NOT NULL DEFAULT '';
DROP INDEX samples_at;
CREATE INDEX samples_by_host ON samples (host, at);
)sql";

// Version 4: key rings (keys/), as on SQLite (db/schema.cpp, its version 7).
constexpr const char* k_v4 = R"sql(
CREATE TABLE key_ring_keys (
  ring           text   NOT NULL,
  fingerprint    text   NOT NULL,
  last_used_at   bigint,
  cooldown_until bigint NOT NULL DEFAULT 0,
  uses_today     bigint NOT NULL DEFAULT 0,
  day            bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (ring, fingerprint)
);
CREATE TABLE key_ring_installation (
  one             boolean PRIMARY KEY DEFAULT true CHECK (one),
  fingerprint_key text    NOT NULL
);
)sql";

// Version 5: a task counts its recorded runs, so that recording one numbers it without reading task_attempts, and
// only a running task may hold a lease token, so that a completion's fence is the token alone (pg/task_sql.hpp,
// OOS_PG_COUNT_RUN and OOS_PG_COMPLETED). The functions are defined again with those statements. The count of a
// task with history is its last run's number: one pass over task_attempts, in the migration's transaction.
constexpr const char* k_v5 = R"sql(
ALTER TABLE tasks ADD COLUMN runs integer NOT NULL DEFAULT 0;
UPDATE tasks SET runs = a.last_run FROM (SELECT task_id, max(run) AS last_run FROM task_attempts GROUP BY task_id) AS a
  WHERE tasks.id = a.task_id;
ALTER TABLE tasks ADD CONSTRAINT tasks_lease_only_while_running CHECK (lease_token IS NULL OR status = 'running');
)sql";

// Versions 3, 5 and 6 (built from this build's statements, pg/task_sql.hpp): the claim, and a success recorded with
// the next claim, as functions, so that the server plans them once per connection instead of on every call. Version
// 6 is the functions alone: the claim passes over a queue whose breaker denies instead of leaving the claim to a
// second round trip (claim_unless_breaker()). Version 3's and 5's functions are this build's too; a database that
// migrates from before 6 reaches it in the same transaction.
const std::array<Migration, 6>& migrations() {
  static const std::array<Migration, 6> all{{{1, k_v1},
                                             {2, k_v2},
                                             {3, sql::define_functions()},
                                             {4, k_v4},
                                             {5, k_v5 + sql::define_functions()},
                                             {6, sql::define_functions()}}};
  return all;
}

// The version row's table: one row (the CHECK on its key keeps it one).
constexpr const char* k_version_table =
    "CREATE TABLE IF NOT EXISTS oos_schema (one boolean PRIMARY KEY DEFAULT true CHECK (one), version integer NOT "
    "NULL)";

// A migration's statements: its text cut after each ';' that ends a line (an unnamed statement holds one command).
// Comments never end a line with ';'.
std::vector<std::string> statements(std::string_view sql) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t end = sql.find(";\n"); end != std::string_view::npos; end = sql.find(";\n", start)) {
    out.emplace_back(sql.substr(start, end + 1 - start));
    start = end + 2;
  }
  return out;
}

int read_version(Connection& connection) {
  const Result exists = connection.exec_params("SELECT to_regclass('oos_schema') IS NOT NULL");
  if (exists.text(0, 0) != "t") return 0;
  const Result row = connection.exec_params("SELECT version FROM oos_schema");
  return row.rows() == 0 ? 0 : static_cast<int>(int_at(row, 0, 0));
}

void refuse_newer(Connection& connection, int version) {
  if (version <= latest_schema_version()) return;
  throw Error(ExitCode::unavailable, "PostgreSQL database at " + connection.server() + " has OOS schema version " +
                                         std::to_string(version) + ", newer than this build supports (" +
                                         std::to_string(latest_schema_version()) +
                                         "): a newer OOS migrated it; upgrade OOS on this host");
}

}  // namespace

int latest_schema_version() {
  return migrations().back().version;
}

int schema_version(Connection& connection) {
  return read_version(connection);
}

void migrate(Connection& connection) {
  migrate_to(connection, latest_schema_version());
}

void migrate_to(Connection& connection, int target) {
  refuse_newer(connection, read_version(connection));
  Transaction tx(connection);
  // Released at commit: a host that waited here reads the version the first one wrote (each statement of a
  // READ COMMITTED transaction sees what committed before it started).
  connection.exec_params("SELECT pg_advisory_xact_lock($1)", {param(k_migration_lock)});
  connection.exec_params(k_version_table);
  int version = read_version(connection);
  refuse_newer(connection, version);
  if (version >= target) return;  // the transaction rolls back: nothing was changed
  for (const Migration& migration : migrations()) {
    if (migration.version <= version || migration.version > target) continue;
    for (const std::string& statement : statements(migration.sql)) connection.exec_params(statement);
  }
  connection.exec_params(
      "INSERT INTO oos_schema (one, version) VALUES (true, $1) ON CONFLICT (one) DO UPDATE SET version = "
      "excluded.version",
      {param(target)});
  tx.commit();
}

}  // namespace oos::pg
