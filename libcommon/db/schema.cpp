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
  status           TEXT    NOT NULL CHECK (status IN ('pending','running','succeeded','dead','cancelled')),
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
-- The claim walks this index in claim order and stops at the first runnable task.
CREATE INDEX tasks_claim ON tasks (priority DESC, run_at, id) WHERE status = 'pending';
CREATE INDEX tasks_lease ON tasks (lease_expires_at) WHERE status = 'running';
CREATE INDEX tasks_queue_status ON tasks (queue, status);
CREATE UNIQUE INDEX tasks_unique_active ON tasks (queue, unique_key)
  WHERE unique_key IS NOT NULL AND status IN ('pending', 'running');

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
CREATE INDEX task_attempts_recent ON task_attempts (queue, ended_at);

CREATE TABLE queues (
  name       TEXT PRIMARY KEY,
  paused     INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE breakers (
  kind                 TEXT    NOT NULL,
  name                 TEXT    NOT NULL,
  state                TEXT    NOT NULL CHECK (state IN ('closed', 'open', 'half_open')),
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

constexpr std::array<Migration, 1> k_migrations{{{1, k_v1}}};

}  // namespace

std::span<const Migration> migrations() { return k_migrations; }

int latest_schema_version() { return k_migrations.back().version; }

}  // namespace oos::db
