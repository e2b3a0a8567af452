// The state database's health (docs/reference.md section 8.5): integrity and foreign-key checks,
// fragmentation and VACUUM, and recovery of a corrupt database from the newest backup that verifies.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "db/database.hpp"
#include "util/progress.hpp"
#include "util/time.hpp"

namespace oos::integrity {

struct CheckResult {
  bool ok = false;
  std::vector<std::string> problems;  // integrity_check / foreign_key_check rows
  std::int64_t page_count = 0;
  std::int64_t freelist_count = 0;
  double fragmentation_percent = 0;  // freelist_count / page_count
};

// PRAGMA integrity_check (quick_check with `quick`), foreign_key_check and the page counts. SQLite errors
// (corrupt, not a database) propagate. `progress` hears of the stage "check" as time goes by (no total).
CheckResult check(db::Database& db, bool quick, const util::ProgressCallback& progress = {});

struct Fragmentation {
  std::int64_t page_count = 0;
  std::int64_t freelist_count = 0;
  double percent = 0;  // freelist_count / page_count
};
// The page counts alone: cheap, for oos-scale's recommendations and oos-health.
Fragmentation fragmentation(db::Database& db);

// Whether fragmentation calls for a VACUUM; pure.
bool needs_vacuum(const CheckResult& result, int threshold_percent);

struct VacuumResult {
  std::uint64_t bytes_before = 0;
  std::uint64_t bytes_after = 0;
};
// VACUUM, then a checkpoint that truncates the WAL. `progress` hears of the stage "vacuum" (time, no total).
VacuumResult vacuum(db::Database& db, const util::ProgressCallback& progress = {});

struct Recovery {
  std::filesystem::path quarantine;                    // <state_dir>/corrupt/<time>/ with the damaged files
  std::optional<std::filesystem::path> restored_from;  // the backup now in place; nullopt: none verified
  std::optional<util::UnixMillis> backup_time;         // what may have been lost: from here to the detection
  std::vector<std::string> skipped;                    // backups that did not verify, with why
};

// Recovers the database at `db_path` (closed by the caller) from the newest backup in `backup_dir` that
// verifies: sets oos.db and its -wal/-shm aside in <state_dir>/corrupt/<time>/ and puts a copy of the backup
// in place, with an "integrity.recovered" event whose detail is describe(the recovery) recorded in the copy
// before it goes in place (killed at any moment: the damaged database, or the backup with its event). Without a
// verifiable backup it only leaves a copy of the files in the quarantine directory and changes nothing else
// (restored_from is nullopt, describe is not called).
Recovery recover(const std::filesystem::path& db_path, const std::filesystem::path& backup_dir, util::UnixMillis now,
                 const std::function<std::string(const Recovery&)>& describe);

}  // namespace oos::integrity
