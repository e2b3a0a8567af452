#include "backup/backup.hpp"

#include <SQLiteCpp/Backup.h>
#include <sqlite3.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>

#include "db/events.hpp"
#include "db/progress_handler.hpp"
#include "error.hpp"
#include "util/fd.hpp"
#include "util/files.hpp"
#include "util/sha256.hpp"

namespace oos::backup {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int k_pages_per_step = 1024;  // 4 MiB with the default page size

Error io_error(const fs::path& path, const std::string& what) {
  return Error(ExitCode::io_error, fmt::format("backup '{}': {}", path.string(), what));
}

void fsync_path(const fs::path& path, bool directory) {
  if (auto synced = util::fsync_path(path, directory); !synced) throw Error(ExitCode::io_error, synced.error());
}

// A tick of SQLite's progress handler as a report of the stage "integrity check" (no total: the time elapsed).
std::function<void()> integrity_ticks(const util::ProgressCallback& progress) {
  if (!progress) return {};
  return [&progress] { progress(util::time_only("integrity check")); };
}

// Integrity and readability of a database file opened read-only; fills tasks and schema version. Returns
// what is wrong, or nullopt.
std::optional<std::string> check_database(const fs::path& file, Manifest& manifest,
                                          const util::ProgressCallback& progress) {
  try {
    SQLite::Database db(file.string(), SQLite::OPEN_READONLY);
    db::ProgressHandler ticks(db, integrity_ticks(progress));
    auto integrity = db.execAndGet("PRAGMA integrity_check").getString();  // the first row: "ok" when sound
    if (integrity != "ok") return "integrity check failed: " + integrity;
    manifest.tasks = db.execAndGet("SELECT count(*) FROM tasks").getInt64();
    manifest.schema_version = db.execAndGet("PRAGMA user_version").getInt();
    return std::nullopt;
  } catch (const SQLite::Exception& e) {
    return std::string("not a sound OOS database: ") + e.what();
  }
}

// Copies `source` into the new file `target`: in steps, and in one step (under one read transaction)
// once concurrent writes have restarted the copy k_max_restarts times. `progress` hears of the bytes copied
// after each step, as the stage `stage`.
CopyStats copy_database(SQLite::Database& source, const fs::path& target, const util::ProgressCallback& progress,
                        std::string_view stage) {
  CopyStats stats;
  double started = util::monotonic_seconds();
  try {
    auto page_size = static_cast<std::uint64_t>(progress ? source.execAndGet("PRAGMA page_size").getInt64() : 0);
    SQLite::Database dest(target.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    {
      SQLite::Backup backup(dest, source);
      int last_remaining = -1;
      while (true) {
        bool whole = stats.restarts >= k_max_restarts;
        stats.held_read_transaction = stats.held_read_transaction || whole;
        int rc = backup.executeStep(whole ? -1 : k_pages_per_step);  // throws on I/O errors
        ++stats.steps;
        if (progress) {
          auto total = static_cast<std::uint64_t>(backup.getTotalPageCount());
          auto remaining = rc == SQLITE_DONE ? 0 : static_cast<std::uint64_t>(backup.getRemainingPageCount());
          progress({.stage = stage,
                    .done = (total - std::min(remaining, total)) * page_size,
                    .total = total * page_size,
                    .unit = util::ProgressUnit::bytes});
        }
        if (rc == SQLITE_DONE) break;
        int remaining = backup.getRemainingPageCount();
        if (last_remaining >= 0 && remaining > last_remaining) ++stats.restarts;  // a writer changed the source
        last_remaining = remaining;
        if (rc != SQLITE_OK) sqlite3_sleep(5);  // busy or locked: a moment, then on
      }
    }
    // A backup is a plain file: no -wal or -shm beside it when it is opened later.
    dest.exec("PRAGMA journal_mode = DELETE");
  } catch (const SQLite::Exception& e) {
    throw io_error(target, std::string("copy failed: ") + e.what() + "; check the free space and permissions there");
  }
  stats.seconds = util::monotonic_seconds() - started;
  return stats;
}

void create_private(const fs::path& path) {
  if (auto created = util::create_private(path); !created) throw Error(ExitCode::io_error, created.error());
}

void write_file_synced(const fs::path& path, const std::string& text) {
  create_private(path);
  {
    std::ofstream out(path, std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw io_error(path, std::string("cannot write: ") + std::strerror(errno));
  }
  fsync_path(path, false);
}

void remove_quietly(const fs::path& path) {
  std::error_code ignored;
  fs::remove(path, ignored);
}

// What SQLite and create_backup put beside a temporary file (`.oos-<time>.db.tmp`, `.oos.db.pre-restore-<time>.tmp`,
// `.oos.db.restore-<time>.tmp`).
constexpr std::array<const char*, 5> k_temporary_suffixes{"", "-journal", "-wal", "-shm", ".manifest"};

// Whether `stamp` is a time as backup names carry it, YYYYMMDDTHHMMSSZ.
bool is_stamp(std::string_view stamp) {
  return parse_backup_name("oos-" + std::string(stamp) + ".db").has_value();
}

// Whether `inner` (a temporary file's name without its leading '.' and trailing ".tmp") is what a create
// (`oos-<time>.db`) or a restore (`<db>.pre-restore-<time>`, `<db>.restore-<time>`) writes.
bool is_temporary_inner(std::string_view inner) {
  if (parse_backup_name(std::string(inner))) return true;
  constexpr std::size_t k_stamp = 16;
  for (std::string_view marker : {".pre-restore-", ".restore-"}) {
    if (inner.size() <= marker.size() + k_stamp) continue;
    auto at = inner.size() - k_stamp - marker.size();
    if (inner.substr(at, marker.size()) == marker && is_stamp(inner.substr(at + marker.size()))) return true;
  }
  return false;
}

// The temporary file that `name` is or belongs to; nullopt for any other name.
std::optional<std::string> temporary_of(const std::string& name) {
  constexpr std::string_view k_ending = ".tmp";
  for (std::string_view suffix : k_temporary_suffixes) {
    if (!name.ends_with(std::string(k_ending) + std::string(suffix))) continue;
    auto base = name.substr(0, name.size() - suffix.size());
    if (base.size() > 1 + k_ending.size() && base.starts_with('.') &&
        is_temporary_inner(std::string_view(base).substr(1, base.size() - 1 - k_ending.size())))
      return base;
  }
  return std::nullopt;
}

// The backup name `oos-<time>.db` whose manifest `name` is; nullopt for any other name.
std::optional<std::string> manifest_backup(const std::string& name) {
  constexpr std::string_view k_ending = ".manifest.json";
  if (!name.ends_with(k_ending)) return std::nullopt;
  auto backup = name.substr(0, name.size() - k_ending.size());
  if (!parse_backup_name(backup)) return std::nullopt;
  return backup;
}

// Whether a running create holds the lock on `temporary` (false when the file is gone).
bool in_use(const fs::path& temporary) {
  util::Fd fd(::open(temporary.c_str(), O_RDONLY | O_CLOEXEC));
  return fd && ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
}

}  // namespace

void remove_temporaries(const fs::path& temporary) {
  for (const char* suffix : k_temporary_suffixes) remove_quietly(fs::path(temporary.string() + suffix));
}

TemporaryLock::TemporaryLock(const fs::path& path) {
  // Retried when a sweep removed the file between the open and the lock.
  for (int attempt = 0; attempt < 3; ++attempt) {
    m_fd.reset(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!m_fd) throw io_error(path, std::string("cannot create: ") + std::strerror(errno));
    struct stat held {
    }, named{};
    if (::flock(m_fd.get(), LOCK_EX) == 0 && ::fstat(m_fd.get(), &held) == 0 && ::stat(path.c_str(), &named) == 0 &&
        held.st_ino == named.st_ino)
      return;
  }
  throw io_error(path, "cannot lock the temporary file");
}

std::string to_json(const Manifest& m) {
  return json{{"file", m.file},
              {"sha256", m.sha256},
              {"size", m.size},
              {"created_at", util::format_iso8601(m.created_at)},
              {"created_at_ms", m.created_at},
              {"tasks", m.tasks},
              {"schema_version", m.schema_version}}
      .dump();
}

std::expected<Manifest, std::string> parse_manifest(const std::string& text) {
  try {
    auto doc = json::parse(text);
    Manifest m;
    m.file = doc.at("file").get<std::string>();
    m.sha256 = doc.at("sha256").get<std::string>();
    m.size = doc.at("size").get<std::uint64_t>();
    m.created_at = doc.at("created_at_ms").get<util::UnixMillis>();
    m.tasks = doc.at("tasks").get<std::int64_t>();
    m.schema_version = doc.at("schema_version").get<int>();
    return m;
  } catch (const std::exception& e) {
    return std::unexpected(std::string("manifest is not valid: ") + e.what());
  }
}

std::string backup_name(util::UnixMillis time) {
  std::time_t seconds = static_cast<std::time_t>(time / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "oos-%Y%m%dT%H%M%SZ.db", &tm);
  return text;
}

std::optional<util::UnixMillis> parse_backup_name(const std::string& name) {
  std::tm tm{};
  if (name.size() != std::string("oos-YYYYMMDDTHHMMSSZ.db").size() || !name.starts_with("oos-") ||
      !name.ends_with("Z.db"))
    return std::nullopt;
  const char* end = strptime(name.c_str() + 4, "%Y%m%dT%H%M%S", &tm);
  if (!end || std::string(end) != "Z.db") return std::nullopt;
  return static_cast<util::UnixMillis>(timegm(&tm)) * 1000;
}

fs::path manifest_path(const fs::path& backup) {
  return fs::path(backup.string() + ".manifest.json");
}

std::vector<BackupEntry> list_backups(const fs::path& dir) {
  std::vector<BackupEntry> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    auto created = parse_backup_name(entry.path().filename().string());
    if (!created) continue;
    out.push_back({entry.path(), *created, entry.file_size(), fs::exists(manifest_path(entry.path()))});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.created > b.created; });
  return out;
}

Verification verify_backup(const fs::path& file, const util::ProgressCallback& progress) {
  Verification v;
  auto fail = [&](const std::string& problem) {
    v.problem = fmt::format("backup '{}': {}", file.string(), problem);
    return v;
  };
  if (!fs::is_regular_file(file)) return fail("no such file");
  auto text = util::read_file(manifest_path(file));
  if (!text) return fail("no manifest beside it (" + manifest_path(file).filename().string() + ")");
  auto manifest = parse_manifest(*text);
  if (!manifest) return fail(manifest.error());
  v.manifest = *manifest;
  auto size = fs::file_size(file);
  if (size != manifest->size) return fail(fmt::format("size {} differs from the manifest's {}", size, manifest->size));
  auto digest = util::sha256_file(file, progress);
  if (!digest) return fail(digest.error());
  if (*digest != manifest->sha256) return fail("SHA-256 differs from the manifest: the file changed after the backup");
  Manifest checked = *manifest;
  if (auto problem = check_database(file, checked, progress)) return fail(*problem);
  v.ok = true;
  return v;
}

std::vector<fs::path> remove_orphaned_temporaries(const fs::path& dir, DryRun dry_run) {
  std::map<std::string, std::vector<fs::path>> groups;  // temporary file name -> it and its companions
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::error_code not_regular;
    if (!entry.is_regular_file(not_regular)) continue;
    auto name = entry.path().filename().string();
    if (auto base = temporary_of(name)) groups[*base].push_back(entry.path());
    if (auto backup = manifest_backup(name)) groups["." + *backup + ".tmp"].push_back(entry.path());
  }
  std::vector<fs::path> removed;
  for (auto& [base, files] : groups) {
    if (in_use(dir / base)) continue;
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      // A manifest is an orphan only when its backup is missing; asked after in_use, since a create renames the
      // manifest into place first and its backup last, both while it holds the lock.
      if (auto backup = manifest_backup(file.filename().string()); backup && fs::exists(dir / *backup)) continue;
      if (dry_run == DryRun::no) {
        std::error_code failed;
        fs::remove(file, failed);
        if (failed) throw io_error(file, "cannot delete an orphaned temporary file: " + failed.message());
      }
      removed.push_back(file);
    }
  }
  return removed;
}

std::string orphan_warning(const fs::path& file, DryRun dry_run) {
  return fmt::format("{} the orphaned temporary file {} of a backup create, restore or recovery that was killed",
                     dry_run == DryRun::yes ? "would remove" : "removed", file.string());
}

Created create_backup(db::Database& source, const fs::path& dir, util::UnixMillis now,
                      const util::ProgressCallback& progress) {
  if (auto made = util::ensure_directory(dir); !made)
    throw Error(ExitCode::io_error, "backup directory: " + made.error());
  Created created;
  created.orphans_removed = remove_orphaned_temporaries(dir);
  // Restores write their temporary files beside the live database (a second sweep of one directory finds nothing).
  std::ranges::copy(remove_orphaned_temporaries(source.path().parent_path()),
                    std::back_inserter(created.orphans_removed));
  created.path = dir / backup_name(now);
  if (fs::exists(created.path))
    throw Error(ExitCode::temp_fail,
                fmt::format("backup '{}' already exists (one per second); try again", created.path.string()));
  auto temporary = dir / ("." + created.path.filename().string() + ".tmp");
  auto temporary_manifest = fs::path(temporary.string() + ".manifest");
  try {
    remove_temporaries(temporary);
    TemporaryLock lock(temporary);
    created.copy = copy_database(source.raw(), temporary, progress, "copy");
    fsync_path(temporary, false);
    Manifest& m = created.manifest;
    m.file = created.path.filename().string();
    m.created_at = now;
    m.size = fs::file_size(temporary);
    if (auto problem = check_database(temporary, m, progress))
      throw Error(ExitCode::problem_reported,
                  fmt::format("backup '{}': the copy does not verify: {}", created.path.string(), *problem));
    auto digest = util::sha256_file(temporary, progress);
    if (!digest) throw io_error(created.path, digest.error());
    m.sha256 = *digest;
    write_file_synced(temporary_manifest, to_json(m) + "\n");
    // The manifest first: a backup file in place always has its manifest.
    fs::rename(temporary_manifest, manifest_path(created.path));
    fs::rename(temporary, created.path);
    fsync_path(dir, true);
  } catch (...) {
    remove_temporaries(temporary);
    if (!fs::exists(created.path)) remove_quietly(manifest_path(created.path));
    throw;
  }
  return created;
}

std::optional<fs::path> newest_verified_backup(const fs::path& dir, std::vector<std::string>& skipped,
                                               const util::ProgressCallback& progress) {
  for (const auto& entry : list_backups(dir)) {
    auto v = verify_backup(entry.path, progress);
    if (v.ok) return entry.path;
    skipped.push_back(v.problem);
  }
  return std::nullopt;
}

Restored restore_backup(db::Database& live, const fs::path& backup, util::UnixMillis now,
                        const util::ProgressCallback& progress) {
  auto live_dir = live.path().parent_path();
  Restored restored;
  restored.orphans_removed = remove_orphaned_temporaries(live_dir);
  auto v = verify_backup(backup, progress);
  if (!v.ok) throw Error(ExitCode::data_error, v.problem + "; nothing was restored");
  restored.manifest = *v.manifest;
  auto stamp = backup_name(now).substr(4, 16);  // YYYYMMDDTHHMMSSZ
  auto live_name = live.path().filename().string();
  restored.kept_aside = live_dir / (live_name + ".pre-restore-" + stamp);
  if (fs::exists(restored.kept_aside))
    throw Error(ExitCode::temp_fail, fmt::format("'{}' already exists; try again", restored.kept_aside.string()));
  // Copied under a temporary name (locked while it is written) and renamed: a restore killed midway leaves no
  // partial copy named as a complete one, and the next restore, create, prune or cleanup removes its leftovers.
  auto aside_temporary = live_dir / ("." + restored.kept_aside.filename().string() + ".tmp");
  try {
    remove_temporaries(aside_temporary);
    TemporaryLock lock(aside_temporary);
    copy_database(live.raw(), aside_temporary, progress, "copy aside");
    fsync_path(aside_temporary, false);
    fs::rename(aside_temporary, restored.kept_aside);
    fsync_path(live_dir, true);
  } catch (...) {
    remove_temporaries(aside_temporary);
    throw;
  }

  // The backup is copied beside the live database and the backup.restored event recorded in that copy; only
  // then does one write transaction on the live database take the copy's pages. The event therefore commits
  // with the restored content or not at all: a restore killed at any moment is either not done or done with
  // its event.
  auto staged = live_dir / ("." + live_name + ".restore-" + stamp + ".tmp");
  int rc = SQLITE_OK;
  try {
    remove_temporaries(staged);
    TemporaryLock lock(staged);
    {
      SQLite::Database source(backup.string(), SQLite::OPEN_READONLY);
      copy_database(source, staged, progress, "stage");
    }
    {
      db::Database copy({.path = staged, .synchronous = config::Synchronous::normal});
      db::record_event_alone(
          copy, now, "backup.restored", "backup/" + restored.manifest.file,
          fmt::format("{} tasks as of {}; the previous database is kept as {}", restored.manifest.tasks,
                      util::format_iso8601(restored.manifest.created_at), restored.kept_aside.string()));
      copy.raw().exec("PRAGMA journal_mode = DELETE");
    }
    {
      SQLite::Database source(staged.string(), SQLite::OPEN_READONLY);
      SQLite::Backup copy(live.raw(), source);
      if (progress) progress(util::time_only("replace"));  // one step: only the time it takes
      rc = copy.executeStep(-1);                           // all pages in one write transaction on the live database
    }
  } catch (const SQLite::Exception& e) {
    remove_temporaries(staged);
    throw io_error(staged, std::string("cannot stage the restore: ") + e.what() +
                               "; nothing was restored, check the free space and permissions there and try again");
  } catch (...) {
    remove_temporaries(staged);
    throw;
  }
  remove_temporaries(staged);
  if (rc != SQLITE_DONE)
    throw Error(ExitCode::temp_fail,
                fmt::format("restore of '{}' found the database busy; it is unchanged, try again", backup.string()));
  return restored;
}

PruneResult prune_backups(const fs::path& dir, const policy::RetentionPolicy& policy, DryRun dry_run) {
  auto backups = list_backups(dir);
  std::vector<util::UnixMillis> times;
  for (const auto& b : backups) times.push_back(b.created);
  auto keep = policy::backups_to_keep(times, policy);
  PruneResult result;
  result.orphans_removed = remove_orphaned_temporaries(dir, dry_run);
  for (std::size_t i = 0; i < backups.size(); ++i) {
    if (keep[i]) {
      result.kept.push_back(backups[i].path);
      continue;
    }
    result.deleted.push_back(backups[i].path);
    if (dry_run == DryRun::yes) continue;
    std::error_code ec;
    fs::remove(backups[i].path, ec);
    if (ec) throw io_error(backups[i].path, "cannot delete: " + ec.message());
    fs::remove(manifest_path(backups[i].path), ec);
  }
  return result;
}

}  // namespace oos::backup
