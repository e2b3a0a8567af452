// The database layer: one SQLite connection with OOS's settings (WAL, synchronous, busy handling,
// foreign keys), schema migrations on open, BEGIN IMMEDIATE transactions and cached statements.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <unordered_map>

#include "config.hpp"
#include "error.hpp"

namespace oos::db {

// How a command uses the database: a command that only reads opens it read-only (docs/reference.md section 2).
enum class Access { read_write, read_only };

struct OpenOptions {
  std::filesystem::path path;
  config::Synchronous synchronous = config::Synchronous::full;
  util::Millis busy_timeout = std::chrono::seconds(5);
  Access access = Access::read_write;
};

// SQL given as a string literal, the key of the statement cache (by address: a literal lives as long as the
// program and keeps its text). The constructor is consteval, so a `const char*`, a std::string or a local
// array does not compile; choose between literals with `dry ? Sql("...") : Sql("...")`.
class Sql {
 public:
  template <std::size_t N>
  consteval Sql(const char (&text)[N]) : m_text(text) {}  // implicit: a literal converts where Sql is expected
  const char* c_str() const noexcept { return m_text; }

 private:
  const char* m_text;
};

// A cached prepared statement in use; resets it (ending any read it holds) when it goes out of scope.
class Query {
 public:
  explicit Query(SQLite::Statement& statement) : m_statement(&statement) {}
  ~Query() { m_statement->tryReset(); }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  SQLite::Statement* operator->() const { return m_statement; }
  SQLite::Statement& operator*() const { return *m_statement; }

 private:
  SQLite::Statement* m_statement;
};

// State of the busy handler: waits of 100-1000 µs at random until the timeout, so that several processes
// take turns fairly instead of one starving (see docs/decisions.md).
struct BusyState {
  double deadline_seconds = 5.0;
  double first_attempt = 0.0;
  int next_checkpoint_pages = 0;  // WAL size at which the commit hook next tries a checkpoint
  unsigned seed = 1;
};

// One open connection to <state_dir>/oos.db. Not movable: the busy handler points into it.
class Database {
 public:
  // Opens (creating if needed), applies the pragmas and runs pending migrations. Throws oos::Error:
  // 74 when the file cannot be opened, 69 when its schema is newer than this build, 75 when it stays busy
  // past the timeout; a corrupt file throws the SQLite::Exception itself (is_corruption(): what
  // oos-integrity recovers from; run_main() turns it into 74 for the other tools).
  // Access::read_only opens an existing file with SQLITE_OPEN_READONLY (66 when it does not exist) and
  // writes nothing to it, so it works in a read-only directory: where the -wal and -shm are missing and
  // cannot be created there, nothing can be in a WAL, and the file is read as it is (immutable). Only an
  // older schema is migrated first, through a read-write connection.
  explicit Database(const OpenOptions& options);
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // The statement for `sql` (a string literal), prepared once per connection.
  Query query(Sql sql);

  // The statement for SQL built at run time (e.g. an IN list of N placeholders), cached by its text.
  Query query_text(const std::string& sql);

  SQLite::Database& raw() { return m_db; }
  const std::filesystem::path& path() const { return m_path; }

  // Whether the file at path() is no longer the one this connection opened (moved away and replaced, as
  // oos-integrity does when it recovers a corrupt database from a backup).
  bool replaced_on_disk() const;
  // Schema version after migrations.
  int schema_version();
  // Frees what this connection can of its page cache and other memory (sqlite3_db_release_memory): the
  // worker's answer to memory pressure. Unused pages are read again when needed.
  void release_memory();

 private:
  std::filesystem::path m_path;
  std::uint64_t m_inode = 0;  // of the file opened
  std::unique_ptr<BusyState> m_busy;
  SQLite::Database m_db;
  std::unordered_map<const char*, std::unique_ptr<SQLite::Statement>> m_statements;
  std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> m_text_statements;
};

// A write transaction started with BEGIN IMMEDIATE (the write lock is taken up front, so it never
// fails half-way on an upgrade). Rolls back unless commit() was called; the destructor never throws.
// Inside another one (oos-api wraps a store's write and its api.write event in one) it is a savepoint:
// commit() releases it into the outer transaction, and without commit() only its own changes are undone.
class WriteTransaction {
 public:
  explicit WriteTransaction(Database& db);
  ~WriteTransaction();
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  void commit();

 private:
  Database& m_db;
  bool m_nested = false;  // a SAVEPOINT inside the caller's transaction
  bool m_done = false;
};

// Whether SQLite found the file damaged or not a database at all (SQLITE_CORRUPT, SQLITE_NOTADB): what
// oos-integrity recovers from.
bool is_corruption(const SQLite::Exception& e);

// Whether a write failed for the storage beneath a sound file: disk full, an I/O error, a read-only or
// unreadable file system (SQLITE_FULL, SQLITE_IOERR, SQLITE_READONLY, SQLITE_CANTOPEN, SQLITE_PERM). Such a
// write may succeed later, once space is freed or the disk is back.
bool is_storage_failure(const SQLite::Exception& e);

// The exit code and one-line message for a SQLite failure: busy -> 75 ("try again"), corrupt -> 74
// pointing to oos-integrity, I/O and permission problems -> 74, anything else -> 70.
Error translate(const SQLite::Exception& e, const std::filesystem::path& db_path);

}  // namespace oos::db
