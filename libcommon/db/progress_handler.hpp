// SQLite's progress handler (sqlite3_progress_handler) for as long as a scope lasts: a measure of time for
// statements that have none of their own (PRAGMA integrity_check, VACUUM, a large write transaction), so that a
// progress line can show the time elapsed (docs/reference.md, "Progress on a terminal").
#pragma once

#include <SQLiteCpp/Database.h>

#include <functional>

namespace oos::db {

// Calls `tick` every k_instructions virtual machine instructions of the statements run on `db` until destroyed,
// then removes the handler. An empty `tick` installs nothing. `tick` must not throw (an exception is swallowed:
// the statement goes on). One per connection: SQLite keeps one handler.
class ProgressHandler {
 public:
  static constexpr int k_instructions = 1000;

  ProgressHandler(SQLite::Database& db, std::function<void()> tick);
  ~ProgressHandler();
  ProgressHandler(const ProgressHandler&) = delete;
  ProgressHandler& operator=(const ProgressHandler&) = delete;

 private:
  SQLite::Database& m_db;
  std::function<void()> m_tick;
};

}  // namespace oos::db
