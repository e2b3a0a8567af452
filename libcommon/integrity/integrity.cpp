#include "integrity/integrity.hpp"

#include <fmt/format.h>

#include "backup/backup.hpp"
#include "db/events.hpp"
#include "db/progress_handler.hpp"
#include "error.hpp"
#include "util/files.hpp"

namespace oos::integrity {
namespace {

namespace fs = std::filesystem;

void fsync_path(const fs::path& path, bool directory) {
  if (auto synced = util::fsync_path(path, directory); !synced) throw Error(ExitCode::io_error, synced.error());
}

std::vector<fs::path> database_files(const fs::path& db_path) {
  std::vector<fs::path> files;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    fs::path file = db_path.string() + suffix;
    if (fs::exists(file)) files.push_back(file);
  }
  return files;
}

// A tick of SQLite's progress handler as a report of `stage` (no total: the time elapsed).
std::function<void()> ticks(const util::ProgressCallback& progress, std::string_view stage) {
  if (!progress) return {};
  return [&progress, stage] { progress(util::time_only(stage)); };
}

}  // namespace

CheckResult check(db::Database& db, bool quick, const util::ProgressCallback& progress) {
  CheckResult result;
  db::ProgressHandler handler(db.raw(), ticks(progress, "check"));
  {
    SQLite::Statement q(db.raw(), quick ? "PRAGMA quick_check" : "PRAGMA integrity_check");
    while (q.executeStep()) {
      auto row = q.getColumn(0).getString();
      if (row != "ok") result.problems.push_back(row);
    }
  }
  {
    SQLite::Statement q(db.raw(), "PRAGMA foreign_key_check");
    while (q.executeStep())
      result.problems.push_back(fmt::format("foreign key: table {} row {} refers to a missing row of {}",
                                            q.getColumn(0).getString(), q.getColumn(1).getInt64(),
                                            q.getColumn(2).getString()));
  }
  auto pages = fragmentation(db);
  result.page_count = pages.page_count;
  result.freelist_count = pages.freelist_count;
  result.fragmentation_percent = pages.percent;
  result.ok = result.problems.empty();
  return result;
}

Fragmentation fragmentation(db::Database& db) {
  Fragmentation f;
  f.page_count = db.raw().execAndGet("PRAGMA page_count").getInt64();
  f.freelist_count = db.raw().execAndGet("PRAGMA freelist_count").getInt64();
  f.percent =
      f.page_count > 0 ? 100.0 * static_cast<double>(f.freelist_count) / static_cast<double>(f.page_count) : 0.0;
  return f;
}

bool needs_vacuum(const CheckResult& result, int threshold_percent) {
  return result.ok && result.fragmentation_percent > threshold_percent;
}

VacuumResult vacuum(db::Database& db, const util::ProgressCallback& progress) {
  VacuumResult result;
  result.bytes_before = fs::file_size(db.path());
  db::ProgressHandler handler(db.raw(), ticks(progress, "vacuum"));
  db.raw().exec("VACUUM");
  db.raw().exec("PRAGMA wal_checkpoint(TRUNCATE)");
  result.bytes_after = fs::file_size(db.path());
  return result;
}

Recovery recover(const fs::path& db_path, const fs::path& backup_dir, util::UnixMillis now,
                 const std::function<std::string(const Recovery&)>& describe) {
  Recovery recovery;
  auto stamp = backup::backup_name(now).substr(4, 16);
  recovery.quarantine = db_path.parent_path() / "corrupt" / stamp;
  if (auto made = util::ensure_directory(recovery.quarantine); !made)
    throw Error(ExitCode::io_error, "quarantine directory: " + made.error());
  auto newest = backup::newest_verified_backup(backup_dir, recovery.skipped);
  auto files = database_files(db_path);
  if (!newest) {
    for (const auto& file : files)
      fs::copy_file(file, recovery.quarantine / file.filename(), fs::copy_options::overwrite_existing);
    return recovery;
  }
  // The backup is copied beside the database under a temporary name (locked while written: a killed recovery's
  // copy is swept like a killed restore's), the damaged files are linked into the quarantine, the damaged -wal
  // and -shm are removed (a database must never meet another one's WAL), and one rename puts the copy in place.
  // Killed at any moment, the database in place is the damaged one (found damaged again by the next check) or
  // the backup, never none.
  auto incoming = db_path.parent_path() / ("." + db_path.filename().string() + ".restore-" + stamp + ".tmp");
  recovery.restored_from = *newest;
  recovery.backup_time = backup::parse_backup_name(newest->filename().string());
  try {
    backup::TemporaryLock lock(incoming);
    fs::copy_file(*newest, incoming, fs::copy_options::overwrite_existing);
    // The event goes into the copy, so that it is in place with the backup or not at all.
    {
      db::Database copy({.path = incoming});
      db::record_event_alone(copy, now, "integrity.recovered", "database", describe(recovery));
      copy.raw().exec("PRAGMA journal_mode = DELETE");
    }
    fsync_path(incoming, false);
    for (const auto& file : files) {
      auto kept = recovery.quarantine / file.filename();
      std::error_code linked;
      fs::remove(kept, linked);
      fs::create_hard_link(file, kept, linked);
      if (linked) fs::copy_file(file, kept, fs::copy_options::overwrite_existing);
    }
    fsync_path(recovery.quarantine, true);
    for (const auto& file : files)
      if (file != db_path) fs::remove(file);
    fs::rename(incoming, db_path);
    fsync_path(db_path.parent_path(), true);
  } catch (...) {
    backup::remove_temporaries(incoming);  // once renamed into place, none of these names is there any more
    throw;
  }
  return recovery;
}

}  // namespace oos::integrity
