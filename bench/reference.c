/* The reference the queue benchmark compares liboos against: the least a task queue on SQLite can do,
 * written directly against libsqlite3 with the same durability settings (WAL, synchronous=FULL).
 *
 *   bench-reference MODE DB N
 *   MODE: insert        one INSERT per transaction
 *         insert-batch  100 INSERTs per transaction
 *         claim         prefill N, then claim (one UPDATE ... RETURNING over a partial index of pending
 *                       tasks) and complete (one UPDATE), each its own transaction
 *         claim-batch   the same with 100 claim+complete pairs per transaction
 * Prints "MODE OPS_PER_SECOND" on stdout. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(sqlite3* db, int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    fprintf(stderr, "bench-reference: %s: %s\n", what, sqlite3_errmsg(db));
    exit(1);
  }
}

static void exec(sqlite3* db, const char* sql) {
  check(db, sqlite3_exec(db, sql, NULL, NULL, NULL), sql);
}

static sqlite3_stmt* prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = NULL;
  check(db, sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), sql);
  return stmt;
}

static void run(sqlite3* db, sqlite3_stmt* stmt, const char* what) {
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
  }
  check(db, rc, what);
  sqlite3_reset(stmt);
}

static void insert_tasks(sqlite3* db, long n, long per_txn) {
  sqlite3_stmt* insert = prepare(db, "INSERT INTO tasks (payload, status) VALUES (?, 'pending')");
  sqlite3_stmt* begin = prepare(db, "BEGIN IMMEDIATE");
  sqlite3_stmt* commit = prepare(db, "COMMIT");
  char payload[64];
  for (long i = 0; i < n; i += per_txn) {
    run(db, begin, "begin");
    for (long j = i; j < i + per_txn && j < n; ++j) {
      snprintf(payload, sizeof payload, "{\"n\":%ld}", j);
      sqlite3_bind_text(insert, 1, payload, -1, SQLITE_TRANSIENT);
      run(db, insert, "insert");
    }
    run(db, commit, "commit");
  }
  sqlite3_finalize(insert);
  sqlite3_finalize(begin);
  sqlite3_finalize(commit);
}

static void claim_tasks(sqlite3* db, long n, long per_txn) {
  sqlite3_stmt* claim =
      prepare(db,
              "UPDATE tasks SET status = 'running' WHERE id = (SELECT id FROM tasks WHERE status = 'pending' "
              "ORDER BY id LIMIT 1) RETURNING id");
  sqlite3_stmt* complete = prepare(db, "UPDATE tasks SET status = 'done' WHERE id = ?");
  sqlite3_stmt* begin = prepare(db, "BEGIN IMMEDIATE");
  sqlite3_stmt* commit = prepare(db, "COMMIT");
  for (long i = 0; i < n; i += per_txn) {
    for (long j = i; j < i + per_txn && j < n; ++j) {
      /* Each its own transaction when per_txn == 1; else 100 claim+complete pairs share one. */
      if (per_txn == 1 || j == i) run(db, begin, "begin");
      if (sqlite3_step(claim) != SQLITE_ROW) {
        fprintf(stderr, "bench-reference: queue empty after %ld claims\n", j);
        exit(1);
      }
      sqlite3_int64 id = sqlite3_column_int64(claim, 0);
      run(db, claim, "claim");
      if (per_txn == 1) {
        run(db, commit, "commit");
        run(db, begin, "begin");
      }
      sqlite3_bind_int64(complete, 1, id);
      run(db, complete, "complete");
      if (per_txn == 1) run(db, commit, "commit");
    }
    if (per_txn != 1) run(db, commit, "commit");
  }
  sqlite3_finalize(claim);
  sqlite3_finalize(complete);
  sqlite3_finalize(begin);
  sqlite3_finalize(commit);
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: bench-reference insert|insert-batch|claim|claim-batch DB N\n");
    return 64;
  }
  const char* mode = argv[1];
  long n = atol(argv[3]);
  sqlite3* db = NULL;
  if (sqlite3_open(argv[2], &db) != SQLITE_OK) {
    fprintf(stderr, "bench-reference: cannot open %s\n", argv[2]);
    return 74;
  }
  sqlite3_busy_timeout(db, 5000);
  exec(db, "PRAGMA journal_mode = WAL");
  exec(db, "PRAGMA synchronous = FULL");
  exec(db, "CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY, payload TEXT NOT NULL, status TEXT NOT NULL)");
  exec(db, "CREATE INDEX IF NOT EXISTS tasks_pending ON tasks (id) WHERE status = 'pending'");

  double start = 0, elapsed = 0;
  if (strcmp(mode, "insert") == 0 || strcmp(mode, "insert-batch") == 0) {
    start = now();
    insert_tasks(db, n, strcmp(mode, "insert") == 0 ? 1 : 100);
    elapsed = now() - start;
  } else if (strcmp(mode, "claim") == 0 || strcmp(mode, "claim-batch") == 0) {
    insert_tasks(db, n, 1000);
    start = now();
    claim_tasks(db, n, strcmp(mode, "claim") == 0 ? 1 : 100);
    elapsed = now() - start;
  } else {
    fprintf(stderr, "bench-reference: unknown mode '%s'\n", mode);
    return 64;
  }
  printf("%s %.1f\n", mode, (double)n / elapsed);
  sqlite3_close(db);
  return 0;
}
