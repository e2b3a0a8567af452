#include <boost/test/unit_test.hpp>

#include <sqlite3.h>

#include <fstream>
#include <string>
#include <string_view>

#include "db/database.hpp"
#include "db/progress_handler.hpp"
#include "db/schema.hpp"
#include "support/printers.hpp"
#include "support/temp_dir.hpp"

using namespace oos;
using oos::test::TempDir;

namespace {
db::OpenOptions options_for(const TempDir& dir, util::Millis busy = util::Millis(5000),
                            config::Synchronous sync = config::Synchronous::full) {
  return {dir / "oos.db", sync, busy};
}
bool has_code(const Error& e, ExitCode code) {
  return e.code() == code;
}

// Whether Database::query compiles with an argument of type T. Its statement cache is keyed by the SQL's
// address, so only string literals may reach it: SQL held in a pointer or built in a string must not compile
// (query_text() takes those).
template <typename T>
concept query_accepts = requires(db::Database& db, T sql) {
  db.query(sql);
};
static_assert(query_accepts<const char (&)[9]>);
static_assert(!query_accepts<const char*>);
static_assert(!query_accepts<std::string>);
static_assert(!query_accepts<std::string_view>);
}  // namespace

BOOST_AUTO_TEST_SUITE(database)

BOOST_AUTO_TEST_CASE(a_literal_chosen_at_run_time_is_one_statement_per_literal) {
  TempDir dir;
  db::Database db(options_for(dir));
  for (bool count : {true, false, true}) {
    auto q = db.query(count ? db::Sql("SELECT count(*) FROM tasks") : db::Sql("SELECT 42"));
    BOOST_TEST_REQUIRE(q->executeStep());
    BOOST_TEST(q->getColumn(0).getInt() == (count ? 0 : 42));
  }
}

BOOST_AUTO_TEST_CASE(open_creates_the_schema_with_wal_and_full_sync) {
  TempDir dir;
  db::Database db(options_for(dir));
  BOOST_TEST(db.schema_version() == db::latest_schema_version());
  BOOST_TEST(db.raw().execAndGet("PRAGMA journal_mode").getString() == "wal");
  BOOST_TEST(db.raw().execAndGet("PRAGMA synchronous").getInt() == 2);
  BOOST_TEST(db.raw().execAndGet("PRAGMA foreign_keys").getInt() == 1);
  BOOST_TEST(db.raw().tableExists("tasks"));
  BOOST_TEST(db.raw().tableExists("task_attempts"));
  BOOST_TEST(db.raw().tableExists("breakers"));
  BOOST_TEST(db.raw().tableExists("events"));
  BOOST_TEST(db.raw().tableExists("samples"));
  BOOST_TEST(db.raw().tableExists("workers"));
  BOOST_TEST(db.raw().tableExists("rate_limits"));
  BOOST_TEST(db.raw().tableExists("search_cache"));
  BOOST_TEST(db.raw().tableExists("key_ring_keys"));
}

BOOST_AUTO_TEST_CASE(the_schema_is_at_version_7) {
  BOOST_TEST(db::latest_schema_version() == 7);
  int expected = 1;
  for (const auto& migration : db::migrations()) BOOST_TEST(migration.version == expected++);
}

// A database written by the first release (schema 1) gains the scaler's samples and the workers' heartbeats
// when a newer build opens it, and keeps its data.
BOOST_AUTO_TEST_CASE(a_version_1_database_migrates_to_the_latest_and_keeps_its_rows) {
  TempDir dir;
  {
    SQLite::Database raw((dir / "oos.db").string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec(db::migrations()[0].sql);
    raw.exec("PRAGMA user_version = 1");
    raw.exec("INSERT INTO events (at, kind, object) VALUES (1, 'backup.created', 'x')");
  }
  db::Database db(options_for(dir));
  BOOST_TEST(db.schema_version() == db::latest_schema_version());
  BOOST_TEST(db.raw().tableExists("samples"));
  BOOST_TEST(db.raw().tableExists("workers"));
  BOOST_TEST(db.raw().tableExists("rate_limits"));
  BOOST_TEST(db.raw().tableExists("search_cache"));
  BOOST_TEST(
      db.raw().execAndGet("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'samples_at'").getInt() ==
      1);
  BOOST_TEST(db.raw().execAndGet("SELECT count(*) FROM events").getInt() == 1);
  db.raw().exec(
      "INSERT INTO samples (at, load1, memory_available_percent, runnable) VALUES (1, 0.5, 50, 0);"
      "INSERT INTO workers (name, pid, host, started_at, heartbeat_at) VALUES ('1', 2, 'h', 3, 4)");
  BOOST_TEST(db.raw().execAndGet("SELECT status || '/' || tasks_run FROM workers").getString() == "/0");
  BOOST_TEST(db.raw().execAndGet("SELECT psi_some_avg10 IS NULL FROM samples").getInt() == 1);
}

// Version 4 keys the attempt history by run. A version 3 history keeps its rows in the order they ended; a row
// of an attempt number the current replay has not reached belongs to an earlier replay. Task 7: replay 0 ran
// attempts 1-3 and died; after `oos-retry`, attempt 1 failed again and replaced the first row.
BOOST_AUTO_TEST_CASE(a_version_3_history_migrates_in_the_order_runs_ended_with_their_replays) {
  TempDir dir;
  {
    SQLite::Database raw((dir / "oos.db").string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    for (std::size_t v = 0; v < 3; ++v) raw.exec(db::migrations()[v].sql);
    raw.exec("PRAGMA user_version = 3");
    raw.exec(
        "INSERT INTO tasks (id, queue, type, payload, status, run_at, attempts, max_attempts, replays, created_at, "
        "updated_at) VALUES (7, 'q', 't', '{}', 'pending', 0, 1, 3, 1, 0, 0);"
        "INSERT INTO task_attempts (task_id, attempt, queue, ended_at, outcome) VALUES (7, 1, 'q', 40, 'failed');"
        "INSERT INTO task_attempts (task_id, attempt, queue, ended_at, outcome) VALUES (7, 2, 'q', 20, 'failed');"
        "INSERT INTO task_attempts (task_id, attempt, queue, ended_at, outcome) VALUES (7, 3, 'q', 30, 'failed');");
  }
  db::Database db(options_for(dir));
  BOOST_TEST(db.schema_version() == db::latest_schema_version());
  BOOST_TEST(db.raw()
                 .execAndGet("SELECT group_concat(run || ':' || replay || '.' || attempt, ' ') FROM "
                             "(SELECT * FROM task_attempts WHERE task_id = 7 ORDER BY run)")
                 .getString() == "1:0.2 2:0.3 3:1.1");
}

// Version 5 counts tasks by queue and status in `queue_counts`, filled from the tasks a version 4 database
// holds in the migration's transaction, and kept from then on by triggers; version 1's finished-state counters
// in `queue_counters` are gone, its run totals stay.
BOOST_AUTO_TEST_CASE(a_version_4_database_migrates_with_its_tasks_counted) {
  TempDir dir;
  {
    SQLite::Database raw((dir / "oos.db").string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    for (std::size_t v = 0; v < 4; ++v) raw.exec(db::migrations()[v].sql);
    raw.exec("PRAGMA user_version = 4");
    std::string rows;
    for (const auto* row : {"'a', 'pending', 0", "'a', 'pending', 2", "'a', 'pending', 0", "'a', 'running', 1",
                            "'a', 'succeeded', 1", "'a', 'succeeded', 1", "'b', 'dead', 3", "'b', 'cancelled', 0"})
      raw.exec(std::string("INSERT INTO tasks (queue, status, attempts, type, payload, run_at, max_attempts, "
                           "created_at, updated_at) VALUES (") +
               row + ", 't', '{}', 0, 3, 0, 0)");
    raw.exec("INSERT INTO queue_counters (queue, minute, runs, failures, run_ms) VALUES ('a', 0, 5, 1, 70)");
  }
  db::Database db(options_for(dir));
  BOOST_TEST(db.schema_version() == db::latest_schema_version());
  auto counts = [&] {
    return db.raw()
        .execAndGet(
            "SELECT group_concat(queue || '.' || status || '=' || n || '/' || retried, ' ') FROM "
            "(SELECT * FROM queue_counts WHERE n != 0 ORDER BY queue, status)")
        .getString();
  };
  BOOST_TEST(counts() == "a.pending=3/1 a.running=1/1 a.succeeded=2/2 b.cancelled=1/0 b.dead=1/1");
  BOOST_TEST(db.raw().execAndGet("SELECT runs || '/' || failures || '/' || run_ms FROM queue_counters").getString() ==
             "5/1/70");
  BOOST_TEST(db.raw()
                 .execAndGet("SELECT count(*) FROM pragma_table_info('queue_counters') WHERE name = 'succeeded'")
                 .getInt() == 0);
  // The triggers count from here on.
  db.raw().exec("UPDATE tasks SET status = 'dead' WHERE queue = 'a' AND status = 'running'");
  db.raw().exec("DELETE FROM tasks WHERE queue = 'a' AND status = 'succeeded'");
  BOOST_TEST(counts() == "a.dead=1/1 a.pending=3/1 b.cancelled=1/0 b.dead=1/1");
}

// Version 6 keeps the same counts with plain UPDATEs: every queue with a row gets all five statuses' rows (zero
// where it had none), the first task of a new queue adds them, and a task moved to another queue (no command
// does, SQL by hand may) is counted there; after each change the counts equal a count of the rows.
BOOST_AUTO_TEST_CASE(a_version_5_database_migrates_with_a_row_per_status_and_stays_counted) {
  TempDir dir;
  {
    SQLite::Database raw((dir / "oos.db").string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    for (std::size_t v = 0; v < 5; ++v) raw.exec(db::migrations()[v].sql);
    raw.exec("PRAGMA user_version = 5");
    for (const auto* row :
         {"'a', 'pending', 0", "'a', 'pending', 2", "'a', 'running', 1", "'a', 'succeeded', 1", "'b', 'dead', 3"})
      raw.exec(std::string("INSERT INTO tasks (queue, status, attempts, type, payload, run_at, max_attempts, "
                           "created_at, updated_at) VALUES (") +
               row + ", 't', '{}', 0, 3, 0, 0)");
  }
  db::Database db(options_for(dir));
  BOOST_TEST(db.schema_version() == db::latest_schema_version());
  auto rows = [&] {
    return db.raw()
        .execAndGet(
            "SELECT group_concat(queue || '.' || status || '=' || n || '/' || retried, ' ') FROM "
            "(SELECT * FROM queue_counts ORDER BY queue, status)")
        .getString();
  };
  BOOST_TEST(rows() ==
             "a.cancelled=0/0 a.dead=0/0 a.pending=2/1 a.running=1/1 a.succeeded=1/1 "
             "b.cancelled=0/0 b.dead=1/1 b.pending=0/0 b.running=0/0 b.succeeded=0/0");
  auto kept = [&] {
    return db.raw()
        .execAndGet(
            "SELECT coalesce(group_concat(queue || '.' || status || '=' || n || '/' || retried, ' '), '') "
            "FROM (SELECT * FROM queue_counts WHERE n != 0 OR retried != 0 ORDER BY queue, status)")
        .getString();
  };
  auto counted = [&] {
    return db.raw()
        .execAndGet(
            "SELECT coalesce(group_concat(queue || '.' || status || '=' || n || '/' || retried, ' '), '') "
            "FROM (SELECT queue, status, count(*) AS n, sum(attempts > 0) AS retried FROM tasks "
            "GROUP BY 1, 2 ORDER BY 1, 2)")
        .getString();
  };
  for (const auto* change :
       {"UPDATE tasks SET status = 'running', attempts = attempts + 1 WHERE queue = 'a' AND status = 'pending'",
        "UPDATE tasks SET status = 'cancelled' WHERE queue = 'b'",
        "INSERT INTO tasks (queue, status, attempts, type, payload, run_at, max_attempts, created_at, updated_at) "
        "VALUES ('c', 'pending', 0, 't', '{}', 0, 3, 0, 0)",
        "UPDATE tasks SET status = 'succeeded' WHERE queue = 'c'",
        "UPDATE tasks SET queue = 'd', status = 'pending', attempts = 0 WHERE queue = 'a' AND status = 'succeeded'",
        "UPDATE tasks SET status = 'dead' WHERE queue = 'd'", "UPDATE tasks SET queue = 'a' WHERE queue = 'c'",
        "DELETE FROM tasks WHERE queue = 'a' AND status = 'running'"}) {
    BOOST_TEST_CONTEXT(change) {
      db.raw().exec(change);
      BOOST_TEST(kept() == counted());
    }
  }
  BOOST_TEST(db.raw().execAndGet("SELECT count(*) FROM queue_counts WHERE queue = 'd'").getInt() == 5);
  BOOST_TEST(db.raw().execAndGet("SELECT count(*) FROM queue_counts WHERE queue = 'c'").getInt() == 5);
}

BOOST_AUTO_TEST_CASE(release_memory_keeps_the_connection_usable) {
  TempDir dir;
  db::Database db(options_for(dir));
  for (int i = 0; i < 100; ++i) db.raw().exec("INSERT INTO events (at, kind, object) VALUES (1, 'x', 'y')");
  BOOST_TEST(db.raw().execAndGet("SELECT count(*) FROM events").getInt() == 100);
  db.release_memory();
  BOOST_TEST(db.raw().execAndGet("SELECT count(*) FROM events").getInt() == 100);
}

BOOST_AUTO_TEST_CASE(synchronous_normal_is_honoured) {
  TempDir dir;
  db::Database db(options_for(dir, util::Millis(5000), config::Synchronous::normal));
  BOOST_TEST(db.raw().execAndGet("PRAGMA synchronous").getInt() == 1);
}

BOOST_AUTO_TEST_CASE(reopening_keeps_data_and_does_not_migrate_again) {
  TempDir dir;
  {
    db::Database db(options_for(dir));
    db.raw().exec("INSERT INTO events (at, kind, object) VALUES (1, 'x', 'y')");
  }
  db::Database again(options_for(dir));
  BOOST_TEST(again.raw().execAndGet("SELECT count(*) FROM events").getInt() == 1);
}

BOOST_AUTO_TEST_CASE(a_database_from_a_newer_version_is_refused_with_69) {
  TempDir dir;
  {
    SQLite::Database raw((dir / "oos.db").string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec("PRAGMA user_version = 999");
  }
  BOOST_CHECK_EXCEPTION(db::Database{options_for(dir)}, Error, [](const Error& e) {
    return has_code(e, ExitCode::unavailable) && std::string(e.what()).find("schema version 999") != std::string::npos;
  });
}

namespace {
std::string bytes_of(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
}  // namespace

BOOST_AUTO_TEST_CASE(another_programs_database_is_refused_with_65_and_left_unchanged) {
  for (int version : {0, 2}) {
    BOOST_TEST_CONTEXT("user_version " << version) {
      TempDir dir;
      {
        SQLite::Database raw((dir / "oos.db").string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        raw.exec("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users(name) VALUES ('ada')");
        raw.exec("PRAGMA user_version = " + std::to_string(version));
      }
      auto before = bytes_of(dir / "oos.db");
      BOOST_CHECK_EXCEPTION(db::Database{options_for(dir)}, Error, [&](const Error& e) {
        std::string what = e.what();
        return has_code(e, ExitCode::data_error) && what.find((dir / "oos.db").string()) != std::string::npos &&
               what.find("not an OOS database (tables: users") != std::string::npos &&
               what.find('\n') == std::string::npos;
      });
      BOOST_TEST(bytes_of(dir / "oos.db") == before);
      BOOST_TEST(!std::filesystem::exists(dir / "oos.db-wal"));
    }
  }
}

BOOST_AUTO_TEST_CASE(an_empty_file_is_a_new_database) {
  TempDir dir;
  oos::test::write_file(dir / "oos.db", "");
  db::Database db(options_for(dir));
  BOOST_TEST(db.schema_version() == db::latest_schema_version());
}

// Thrown as the SQLite error itself, so that oos-integrity can tell it from other failures; translated,
// it is 74 pointing to oos-integrity.
BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_database_is_a_corruption_translated_to_74_pointing_to_oos_integrity) {
  TempDir dir;
  oos::test::write_file(dir / "oos.db", std::string(8192, 'x'));
  BOOST_CHECK_EXCEPTION(db::Database{options_for(dir)}, SQLite::Exception, [&](const SQLite::Exception& e) {
    auto translated = db::translate(e, dir / "oos.db");
    return db::is_corruption(e) && has_code(translated, ExitCode::io_error) &&
           std::string(translated.what()).find("oos-integrity") != std::string::npos;
  });
}

BOOST_AUTO_TEST_CASE(a_write_lock_held_past_the_busy_timeout_is_75) {
  TempDir dir;
  db::Database holder(options_for(dir));
  db::Database waiter(options_for(dir, util::Millis(100)));
  db::WriteTransaction held(holder);
  try {
    db::WriteTransaction blocked(waiter);
    BOOST_FAIL("BEGIN IMMEDIATE should have been refused");
  } catch (const SQLite::Exception& e) {
    BOOST_TEST(db::translate(e, "x.db").code() == ExitCode::temp_fail);
    BOOST_TEST(std::string(db::translate(e, "x.db").what()).find("try again") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(a_transaction_without_commit_rolls_back) {
  TempDir dir;
  db::Database db(options_for(dir));
  {
    db::WriteTransaction tx(db);
    db.raw().exec("INSERT INTO events (at, kind, object) VALUES (1, 'x', 'y')");
  }
  BOOST_TEST(db.raw().execAndGet("SELECT count(*) FROM events").getInt() == 0);
  {
    db::WriteTransaction tx(db);
    db.raw().exec("INSERT INTO events (at, kind, object) VALUES (1, 'x', 'y')");
    tx.commit();
  }
  BOOST_TEST(db.raw().execAndGet("SELECT count(*) FROM events").getInt() == 1);
}

BOOST_AUTO_TEST_CASE(cached_queries_are_reset_after_use) {
  TempDir dir;
  db::Database db(options_for(dir));
  for (int i = 0; i < 3; ++i) db.raw().exec("INSERT INTO events (at, kind, object) VALUES (1, 'x', 'y')");
  for (int round = 0; round < 2; ++round) {
    auto q = db.query("SELECT id FROM events ORDER BY id");
    BOOST_TEST(q->executeStep());
    BOOST_TEST(q->getColumn(0).getInt() == 1);  // starts over: the previous use was reset
  }
  // A read left open by a cached statement would block the checkpoint below.
  BOOST_TEST(sqlite3_wal_checkpoint_v2(db.raw().getHandle(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr) ==
             SQLITE_OK);
}

// Inside a transaction, a WriteTransaction is a savepoint: committed, its changes join the outer transaction;
// not committed, only they are undone; the outer commit or rollback decides for all.
BOOST_AUTO_TEST_CASE(a_write_transaction_inside_another_is_a_savepoint) {
  TempDir dir;
  db::Database db(options_for(dir));
  db.raw().exec("CREATE TABLE t (v INTEGER)");
  {
    db::WriteTransaction outer(db);
    db.raw().exec("INSERT INTO t VALUES (1)");
    {
      db::WriteTransaction undone(db);
      db.raw().exec("INSERT INTO t VALUES (2)");
    }
    {
      db::WriteTransaction kept(db);
      db.raw().exec("INSERT INTO t VALUES (3)");
      kept.commit();
    }
    BOOST_TEST(db.raw().execAndGet("SELECT group_concat(v) FROM t").getString() == "1,3");
  }
  BOOST_TEST(db.raw().execAndGet("SELECT count(*) FROM t").getInt() == 0);
  {
    db::WriteTransaction outer(db);
    {
      db::WriteTransaction inner(db);
      db.raw().exec("INSERT INTO t VALUES (4)");
      inner.commit();
    }
    outer.commit();
  }
  BOOST_TEST(db.raw().execAndGet("SELECT group_concat(v) FROM t").getString() == "4");
}

// The progress handler ticks while a long statement runs, and not after its scope: statements without a measure
// of their own (integrity_check, VACUUM) show the time elapsed by it (docs/reference.md, "Progress on a terminal").
BOOST_AUTO_TEST_CASE(a_progress_handler_ticks_during_statements_while_it_lives) {
  TempDir dir;
  db::Database db(options_for(dir));
  constexpr const char* k_long =
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000) "
      "SELECT sum(i) FROM n";
  int ticks = 0;
  {
    db::ProgressHandler handler(db.raw(), [&] { ++ticks; });
    BOOST_TEST(db.raw().execAndGet(k_long).getInt64() == 5'000'050'000);
  }
  BOOST_TEST(ticks > 10);
  int before = ticks;
  BOOST_TEST(db.raw().execAndGet(k_long).getInt64() == 5'000'050'000);
  BOOST_TEST(ticks == before);
  // A tick that throws does not interrupt the statement.
  db::ProgressHandler throwing(db.raw(), [] { throw std::runtime_error("tick"); });
  BOOST_TEST(db.raw().execAndGet(k_long).getInt64() == 5'000'050'000);
}

BOOST_AUTO_TEST_SUITE_END()
