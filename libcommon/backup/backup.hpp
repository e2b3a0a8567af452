// Verified online backups of the state database (docs/reference.md section 8.4): create, verify, list,
// prune. A backup is <dir>/oos-YYYYMMDDTHHMMSSZ.db (journal mode DELETE, a plain SQLite file) with its
// manifest <file>.manifest.json beside it (SHA-256, size, time, task count, schema version).
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "db/database.hpp"
#include "dry_run.hpp"
#include "policy/retention.hpp"
#include "util/fd.hpp"
#include "util/progress.hpp"
#include "util/time.hpp"

namespace oos::backup {

struct Manifest {
  std::string file;  // the backup's file name
  std::string sha256;
  std::uint64_t size = 0;
  util::UnixMillis created_at = 0;
  std::int64_t tasks = 0;
  int schema_version = 0;
};

std::string to_json(const Manifest& manifest);
[[nodiscard]] std::expected<Manifest, std::string> parse_manifest(const std::string& text);

// "oos-20261128T153000Z.db" for a backup taken at `time`; parse_backup_name is its inverse (nullopt for
// any other name).
std::string backup_name(util::UnixMillis time);
std::optional<util::UnixMillis> parse_backup_name(const std::string& name);
std::filesystem::path manifest_path(const std::filesystem::path& backup);

struct BackupEntry {
  std::filesystem::path path;
  util::UnixMillis created = 0;  // from the name
  std::uint64_t size = 0;
  bool has_manifest = false;
};

// The backups in `dir`, newest first; an absent directory has none.
std::vector<BackupEntry> list_backups(const std::filesystem::path& dir);

struct Verification {
  bool ok = false;
  std::string problem;  // when not ok: what is wrong, naming the file
  std::optional<Manifest> manifest;
};

// Checks a backup: its manifest exists and matches (size, SHA-256), PRAGMA integrity_check says ok, and
// the tasks table can be read. `progress` hears of the stages "checksum" (bytes) and "integrity check" (time).
Verification verify_backup(const std::filesystem::path& file, const util::ProgressCallback& progress = {});

struct CopyStats {
  int steps = 0;
  int restarts = 0;                    // times concurrent writes made the stepped copy start over
  bool held_read_transaction = false;  // fell back to copying in one step
  double seconds = 0;
};

struct Created {
  std::filesystem::path path;
  Manifest manifest;
  CopyStats copy;
  std::vector<std::filesystem::path> orphans_removed;  // see remove_orphaned_temporaries
};

// An exclusive flock(2) on a temporary file (created 0600 if missing), held while a create, restore or recovery
// writes it, so that remove_orphaned_temporaries leaves it alone (flock and SQLite's fcntl locks do not
// interact). Keep it until every SQLite connection to the file is closed. Throws oos::Error 74.
class TemporaryLock {
 public:
  explicit TemporaryLock(const std::filesystem::path& path);

 private:
  util::Fd m_fd;
};

// Removes the temporary file `temporary` of a create, restore or recovery and what SQLite and a create put beside
// it (its -journal, -wal, -shm and .manifest), ignoring any that is not there or cannot be removed.
void remove_temporaries(const std::filesystem::path& temporary);

// Removes from `dir` the temporary files of creates and restores that no longer run (killed midway): a create's
// .oos-<time>.db.tmp (in the backup directory) and a restore's .<db>.pre-restore-<time>.tmp and
// .<db>.restore-<time>.tmp (beside the live database), each with its -journal, -wal, -shm and .manifest, and the
// manifest oos-<time>.db.manifest.json of a backup that is not there (a create killed between its two renames, a
// prune between its two deletions). A running create, restore or recovery holds a lock (flock) on its .tmp file
// for as long as it writes it, so its files are left alone. Returns what was (with DryRun::yes: would be)
// removed.
std::vector<std::filesystem::path> remove_orphaned_temporaries(const std::filesystem::path& dir,
                                                               DryRun dry_run = DryRun::no);

// The warning for `file`, which remove_orphaned_temporaries removed (with DryRun::yes: would remove).
std::string orphan_warning(const std::filesystem::path& file, DryRun dry_run);

// First removes the orphaned temporary files of killed creates and restores from `dir` and from the directory of
// `source` (remove_orphaned_temporaries). Then copies
// the live database with SQLite's backup API into a temporary file in `dir` while other processes
// keep writing: in steps, and after k_max_restarts restarts in one step under a read transaction. Then
// fsyncs it, verifies it, writes the manifest and only then renames it into place. On any failure the
// temporary files are removed and an oos::Error is thrown (74 for I/O, 1 when the copy does not verify);
// existing backups are never touched. `progress` hears of the stages "copy" (bytes of pages copied, of the
// database's), "integrity check" (time) and "checksum" (bytes).
Created create_backup(db::Database& source, const std::filesystem::path& dir, util::UnixMillis now,
                      const util::ProgressCallback& progress = {});
inline constexpr int k_max_restarts = 3;

// The newest backup in `dir` that verifies; the ones skipped on the way are added to `skipped` with their
// problem. nullopt when none verifies. `progress` hears of each verification (verify_backup).
std::optional<std::filesystem::path> newest_verified_backup(const std::filesystem::path& dir,
                                                            std::vector<std::string>& skipped,
                                                            const util::ProgressCallback& progress = {});

struct Restored {
  Manifest manifest;                                   // of the backup restored
  std::filesystem::path kept_aside;                    // the database as it was, oos.db.pre-restore-<time>
  std::vector<std::filesystem::path> orphans_removed;  // beside the live database: see remove_orphaned_temporaries
};

// Replaces the live database's content with `backup` after verifying it (oos::Error 65 if it does not).
// First removes the orphaned temporary files of killed restores beside the live database. The current database
// is copied to <live dir>/oos.db.pre-restore-YYYYMMDDTHHMMSSZ (written as .oos.db.pre-restore-<time>.tmp and
// renamed once complete; a failed copy is removed and nothing restored). The backup is then copied to
// .oos.db.restore-<time>.tmp, a "backup.restored" event is recorded in that copy, and the copy's pages replace
// the live database's in one write transaction: other connections see the old content or the new (with its
// event), never a mix, and need not reopen anything; a restore killed at any moment is not done or done with
// its event. `progress` hears of the verification's stages (verify_backup), then "copy aside", "stage" (bytes)
// and "replace" (the one step: time).
Restored restore_backup(db::Database& live, const std::filesystem::path& backup, util::UnixMillis now,
                        const util::ProgressCallback& progress = {});

struct PruneResult {
  std::vector<std::filesystem::path> deleted;
  std::vector<std::filesystem::path> kept;
  std::vector<std::filesystem::path> orphans_removed;  // see remove_orphaned_temporaries
};

// Deletes the backups (and their manifests) that `policy` does not keep, and the orphaned temporary files of
// killed creates; with DryRun::yes only reports.
PruneResult prune_backups(const std::filesystem::path& dir, const policy::RetentionPolicy& policy, DryRun dry_run);

}  // namespace oos::backup
