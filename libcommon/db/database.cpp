#include "db/database.hpp"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "db/schema.hpp"
#include "util/files.hpp"
#include "util/time.hpp"

namespace oos::db {
namespace {

// Sleeps between `min_us` and `max_us` µs, drawn from the connection's seed: processes that retry together
// spread out instead of colliding again.
void sleep_at_random(BusyState& state, unsigned min_us, unsigned max_us) {
  ::usleep(static_cast<useconds_t>(min_us + static_cast<unsigned>(rand_r(&state.seed)) % (max_us - min_us + 1)));
}

// Sleeps 100-1000 µs at random between tries until the deadline; returning 0 makes SQLite report BUSY.
// SQLite's own handler sleeps in growing steps (up to 100 ms), which lets one process starve others.
int busy_handler(void* context, int count) {
  auto* state = static_cast<BusyState*>(context);
  double now = util::monotonic_seconds();
  if (count == 0)
    state->first_attempt = now;
  else if (now - state->first_attempt > state->deadline_seconds)
    return 0;
  sleep_at_random(*state, 100, 1000);
  return 1;
}

// The WAL size (pages) at which a commit checkpoints, as SQLite's default wal_autocheckpoint.
constexpr int k_checkpoint_pages = 1000;
// How long a checkpoint waits for other connections' transactions to end.
constexpr double k_checkpoint_wait_seconds = 0.2;

// Replaces SQLite's automatic checkpoint. Its PASSIVE checkpoint never resets a WAL that other processes
// keep reading, which they always do when several workers take turns: the WAL then grows without end and
// every commit pays for another checkpoint (measured: 90 MB of WAL and 2.4 fsyncs per task with 4 workers,
// 1 with one). RESTART waits briefly for the readers to move on, so that the next writer starts the WAL
// over. If it cannot within k_checkpoint_wait_seconds (a long reader, such as a backup), it checkpoints what
// it can and the next try waits until the WAL has grown by another k_checkpoint_pages.
int checkpoint_hook(void* context, sqlite3* db, const char* name, int pages) {
  auto* state = static_cast<BusyState*>(context);
  if (pages < k_checkpoint_pages) state->next_checkpoint_pages = k_checkpoint_pages;
  if (pages < state->next_checkpoint_pages) return SQLITE_OK;
  double deadline = state->deadline_seconds;
  state->deadline_seconds = std::min(deadline, k_checkpoint_wait_seconds);
  int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr);
  state->deadline_seconds = deadline;
  state->next_checkpoint_pages = rc == SQLITE_OK ? k_checkpoint_pages : pages + k_checkpoint_pages;
  return SQLITE_OK;
}

// `path`, created 0600 first when absent (util::create_private); a failure is left for SQLite to report.
const std::filesystem::path& created_private(const std::filesystem::path& path) {
  [[maybe_unused]] auto created = util::create_private(path);
  return path;
}

// `path` as an SQLite URI that opens it read-only and immutable (no locks, no -wal or -shm).
std::string immutable_uri(const std::filesystem::path& path) {
  std::string uri = "file:";
  for (char c : path.string()) {
    if (c == '%' || c == '?' || c == '#')
      uri += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    else
      uri += c;
  }
  return uri + "?immutable=1";
}

// Whether `db`, opened read-only, can be read: false when SQLite can neither open nor create the -shm (a
// read-only directory); other failures are thrown.
bool readable(SQLite::Database& db) {
  try {
    db.execAndGet("SELECT count(*) FROM sqlite_master");
    return true;
  } catch (const SQLite::Exception& e) {
    int code = e.getErrorCode() & 0xff;
    if (code == SQLITE_CANTOPEN || code == SQLITE_READONLY) return false;
    throw;
  }
}

// The connection of `options`: read-write, creating a missing file 0600; or read-only of an existing file.
SQLite::Database connect(const OpenOptions& options) {
  const auto& path = options.path;
  // A FIFO or a device gives SQLite's bare "disk I/O error", a directory "unable to open database file":
  // neither says what is wrong.
  if (std::error_code ec; std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
    throw Error(ExitCode::io_error,
                "database '" + path.string() + "' is not a regular file: move it away or point --state-dir elsewhere");
  if (options.access == Access::read_write)
    return SQLite::Database(created_private(path).string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw Error(ExitCode::no_input, "database '" + path.string() +
                                        "' does not exist: a command that only reads does not create it (check "
                                        "--state-dir, $OOS_STATE_DIR and paths.state_dir)");
  SQLite::Database db(path.string(), SQLite::OPEN_READONLY);
  if (readable(db)) return db;
  // A WAL that exists cannot be read without its -shm: the failure is reported as it is.
  if (std::filesystem::exists(path.string() + "-wal", ec)) db.execAndGet("SELECT count(*) FROM sqlite_master");
  return SQLite::Database(immutable_uri(path), SQLite::OPEN_READONLY | SQLite::OPEN_URI);
}

int read_user_version(SQLite::Database& db) {
  return db.execAndGet("PRAGMA user_version").getInt();
}

// Refuses (exit 65) a database that another program wrote, before anything is written to it: schema objects
// without OOS's user_version (every migration sets it in the transaction that creates the tables), or a
// user_version of this build's range without OOS's tasks table. One statement, so one snapshot: a concurrent first
// migration is seen whole or not at all.
void refuse_foreign(SQLite::Database& db, const std::filesystem::path& path) {
  SQLite::Statement probe(db,
                          "SELECT (SELECT user_version FROM pragma_user_version),"
                          " (SELECT count(*) FROM sqlite_master),"
                          " (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'tasks'),"
                          " (SELECT group_concat(name, ', ') FROM (SELECT name FROM sqlite_master"
                          "  WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name LIMIT 5))");
  probe.executeStep();
  int version = probe.getColumn(0).getInt();
  bool has_objects = probe.getColumn(1).getInt64() > 0;
  bool has_tasks = probe.getColumn(2).getInt64() > 0;
  // A version newer than this build is left to migrate(): 69, install the newer OOS.
  if ((version == 0 && !has_objects) || (version > 0 && has_tasks) || version > latest_schema_version()) return;
  auto tables = probe.getColumn(3).getString();
  throw Error(ExitCode::data_error, "database '" + path.string() + "' is not an OOS database (" +
                                        (tables.empty() ? "no tasks table" : "tables: " + tables) + ", user_version " +
                                        std::to_string(version) +
                                        "); it was left unchanged: point --state-dir or paths.state_dir elsewhere");
}

// Refuses (exit 69) a database that a newer OOS wrote, before anything is written to it (journal_mode = WAL
// would rewrite the header of one in another journal mode).
void refuse_newer(SQLite::Database& db, const std::filesystem::path& path) {
  int version = read_user_version(db);
  int latest = latest_schema_version();
  if (version > latest)
    throw Error(ExitCode::unavailable, "database '" + path.string() + "' has schema version " +
                                           std::to_string(version) + ", newer than this build supports (" +
                                           std::to_string(latest) + "); install the newer OOS that wrote it");
}

// Switches the database to WAL (a no-op once it is). Converting a new database needs an exclusive lock, and when
// processes open a new database together, each holds a shared lock while it asks for it: SQLite then answers
// SQLITE_BUSY at once, without calling the busy handler (it would wait for itself). Tried again after a random
// 1-5 ms until the busy timeout has passed (cli.worker_signals: four workers on a new state directory).
void switch_to_wal(SQLite::Database& db, BusyState& busy) {
  double deadline = util::monotonic_seconds() + busy.deadline_seconds;
  while (true) {
    try {
      db.exec("PRAGMA journal_mode = WAL");
      return;
    } catch (const SQLite::Exception& e) {
      if ((e.getErrorCode() & 0xff) != SQLITE_BUSY || util::monotonic_seconds() > deadline) throw;
    }
    sleep_at_random(busy, 1000, 5000);
  }
}

void migrate(Database& db, const OpenOptions& options) {
  refuse_newer(db.raw(), db.path());  // again: another process may have migrated since
  int version = read_user_version(db.raw());
  if (version == latest_schema_version()) return;
  if (options.access == Access::read_only) {
    // Migrated by a connection of its own; this one sees the new schema at its next statement.
    Database writer(OpenOptions{db.path(), options.synchronous, options.busy_timeout, Access::read_write});
    return;
  }
  WriteTransaction tx(db);
  version = read_user_version(db.raw());  // another process may have migrated while we waited
  for (const auto& migration : migrations()) {
    if (migration.version <= version) continue;
    db.raw().exec(migration.sql);
    db.raw().exec("PRAGMA user_version = " + std::to_string(migration.version));
  }
  tx.commit();
}

}  // namespace

Database::Database(const OpenOptions& options) try
    : m_path(options.path), m_busy(std::make_unique<BusyState>()), m_db(connect(options)) {
  m_busy->deadline_seconds = static_cast<double>(options.busy_timeout.count()) / 1000.0;
  m_busy->seed = static_cast<unsigned>(::getpid()) ^ static_cast<unsigned>(util::monotonic_seconds() * 1e6);
  sqlite3_extended_result_codes(m_db.getHandle(), 1);
  sqlite3_busy_handler(m_db.getHandle(), busy_handler, m_busy.get());
  sqlite3_wal_hook(m_db.getHandle(), checkpoint_hook, m_busy.get());
  refuse_foreign(m_db, m_path);
  refuse_newer(m_db, m_path);
  if (options.access == Access::read_write) switch_to_wal(m_db, *m_busy);
  m_db.exec(options.synchronous == config::Synchronous::full ? "PRAGMA synchronous = FULL"
                                                             : "PRAGMA synchronous = NORMAL");
  m_db.exec("PRAGMA foreign_keys = ON");
  migrate(*this, options);
  struct stat st {};
  if (::stat(m_path.c_str(), &st) == 0) m_inode = st.st_ino;
} catch (const SQLite::Exception& e) {
  if (is_corruption(e)) throw;  // as it is, for oos-integrity to recognise (run_main translates it for the rest)
  throw translate(e, options.path);
}

Query Database::query(Sql sql) {
  auto& slot = m_statements[sql.c_str()];
  if (!slot)
    slot = std::make_unique<SQLite::Statement>(m_db, sql.c_str());
  else
    slot->clearBindings();
  return Query(*slot);
}

Query Database::query_text(const std::string& sql) {
  auto& slot = m_text_statements[sql];
  if (!slot)
    slot = std::make_unique<SQLite::Statement>(m_db, sql);
  else
    slot->clearBindings();
  return Query(*slot);
}

int Database::schema_version() {
  return read_user_version(m_db);
}

void Database::release_memory() {
  sqlite3_db_release_memory(m_db.getHandle());
}

WriteTransaction::WriteTransaction(Database& db)
    : m_db(db), m_nested(sqlite3_get_autocommit(db.raw().getHandle()) == 0) {
  m_db.query(m_nested ? Sql("SAVEPOINT oos_nested") : Sql("BEGIN IMMEDIATE"))->exec();
}

WriteTransaction::~WriteTransaction() {
  if (m_done) return;
  sqlite3_exec(m_db.raw().getHandle(), m_nested ? "ROLLBACK TO oos_nested; RELEASE oos_nested" : "ROLLBACK", nullptr,
               nullptr, nullptr);
}

void WriteTransaction::commit() {
  m_db.query(m_nested ? Sql("RELEASE oos_nested") : Sql("COMMIT"))->exec();
  m_done = true;
}

bool Database::replaced_on_disk() const {
  struct stat st {};
  return ::stat(m_path.c_str(), &st) != 0 || st.st_ino != m_inode;
}

bool is_corruption(const SQLite::Exception& e) {
  int code = e.getErrorCode() & 0xff;
  return code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
}

bool is_storage_failure(const SQLite::Exception& e) {
  switch (e.getErrorCode() & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM: return true;
    default: return false;
  }
}

Error translate(const SQLite::Exception& e, const std::filesystem::path& db_path) {
  auto where = "database '" + db_path.string() + "'";
  if (is_corruption(e))
    return Error(ExitCode::io_error, where + " is corrupt (" + e.what() +
                                         "); run 'oos-integrity check' to recover it from the newest backup");
  switch (e.getErrorCode() & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error(ExitCode::temp_fail,
                   where + " is busy: another process held its write lock past db.busy_timeout; try again");
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_PERM: return Error(ExitCode::io_error, where + ": " + e.what());
    default: return Error(ExitCode::software, where + ": " + e.what());
  }
}

}  // namespace oos::db
