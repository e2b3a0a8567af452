#include "commands.hpp"

#include <SQLiteCpp/Exception.h>
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "app/job.hpp"
#include "app/output.hpp"
#include "backup/backup.hpp"
#include "db/events.hpp"
#include "error.hpp"
#include "integrity/integrity.hpp"
#include "util/file_lock.hpp"
#include "util/files.hpp"
#include "util/progress.hpp"

namespace oos::tools::integrity {
namespace {

using nlohmann::json;

// The database is corrupt (`cause`): recover it unless told not to. Exit 1 recovered, 2 not.
int handle_corruption(const Command& c, app::Context& context, const std::string& cause, metrics::Exposition& metrics) {
  metrics.add("oos_integrity_database_ok", metrics::Type::gauge, "Whether the last check found the database sound", 0);
  auto now = context.clock.now();
  auto& log = *context.logger;
  if (c.no_repair) {
    log.critical(
        fmt::format("database '{}' is corrupt: {}; not repaired (--no-repair): run 'oos-integrity' without it to "
                    "recover from the newest backup",
                    context.db_path().string(), cause));
    if (c.json) std::cout << app::dump(json{{"ok", false}, {"problems", {cause}}, {"repaired", false}}) << '\n';
    return 2;
  }
  auto describe = [&](const oos::integrity::Recovery& r) {
    auto window = fmt::format("changes after {} up to {} may be lost", util::format_iso8601(*r.backup_time),
                              util::format_iso8601(now));
    return fmt::format("corrupt ({}); restored from {}; {}; the damaged files are in {}", cause,
                       r.restored_from->string(), window, r.quarantine.string());
  };
  auto recovery = oos::integrity::recover(context.db_path(), context.backup_dir(), now, describe);
  for (const auto& skipped : recovery.skipped) log.warn(skipped + "; skipped");
  metrics.add("oos_integrity_recovered", metrics::Type::gauge,
              "Whether the last run restored the database from a backup", recovery.restored_from ? 1 : 0);
  if (!recovery.restored_from) {
    auto message = fmt::format(
        "database '{}' is corrupt ({}) and no backup in {} verifies; a copy is in {}, the database is unchanged. "
        "Stop the workers, then try 'sqlite3 {} .recover' into a new file, or restore an older copy with "
        "'oos-backup restore FILE'",
        context.db_path().string(), cause, context.backup_dir().string(), recovery.quarantine.string(),
        context.db_path().string());
    log.critical(message);
    if (c.json)
      std::cout << app::dump(json{{"ok", false},
                                  {"problems", {cause}},
                                  {"repaired", false},
                                  {"quarantine", recovery.quarantine.string()}})
                << '\n';
    else
      std::cerr << "oos-integrity: error: " << message << '\n';
    return 2;
  }
  auto detail = describe(recovery);  // recorded by recover() as the integrity.recovered event
  log.critical("database " + detail);
  if (c.json)
    std::cout << app::dump(json{{"ok", false},
                                {"problems", {cause}},
                                {"repaired", true},
                                {"restored_from", recovery.restored_from->string()},
                                {"backup_time", util::format_iso8601(*recovery.backup_time)},
                                {"quarantine", recovery.quarantine.string()}})
              << '\n';
  else
    std::cout << "recovered: " << detail << '\n';
  return 1;
}

// The progress line on stderr when it is a terminal and the output is not --json.
util::Progress progress_line(const Command& c, app::Context& context) {
  return util::Progress("integrity", util::progress_on_stderr(c.json), context.clock, util::write_stderr);
}

int vacuum(const Command& c, app::Context& context) {
  auto db = app::open_database(context);
  auto progress = progress_line(c, context);
  auto v = oos::integrity::vacuum(*db, progress.callback());
  progress.finish();
  db::record_event_alone(*db, context.clock.now(), "integrity.vacuum", "database",
                         fmt::format("{} -> {} bytes", v.bytes_before, v.bytes_after));
  std::cout << fmt::format("vacuumed: {} -> {} bytes\n", v.bytes_before, v.bytes_after);
  return 0;
}

int check(const Command& c, app::Context& context, metrics::Exposition& metrics) {
  std::string cause;
  try {
    auto db = app::open_database(context);
    auto progress = progress_line(c, context);
    auto result = oos::integrity::check(*db, c.quick, progress.callback());
    if (result.ok) {
      bool vacuumed = false;
      std::optional<oos::integrity::VacuumResult> v;
      if (oos::integrity::needs_vacuum(result, context.config.integrity.vacuum_threshold_percent)) {
        v = oos::integrity::vacuum(*db, progress.callback());
        vacuumed = true;
      }
      progress.finish();
      auto detail = fmt::format("{} ok; {} of {} pages free ({:.1f}%){}", c.quick ? "quick_check" : "integrity_check",
                                result.freelist_count, result.page_count, result.fragmentation_percent,
                                v ? fmt::format("; vacuumed {} -> {} bytes", v->bytes_before, v->bytes_after) : "");
      db::record_event_alone(*db, context.clock.now(), "integrity.ok", "database", detail);
      metrics
          .add("oos_integrity_database_ok", metrics::Type::gauge, "Whether the last check found the database sound", 1)
          .add("oos_integrity_fragmentation_ratio", metrics::Type::gauge, "Free pages / all pages at the last check",
               result.fragmentation_percent / 100);
      context.logger->info("database " + detail);
      if (c.json)
        std::cout << app::dump(json{{"ok", true},
                                    {"problems", json::array()},
                                    {"fragmentation_percent", result.fragmentation_percent},
                                    {"vacuumed", vacuumed}})
                  << '\n';
      else
        std::cout << "ok: " << detail << '\n';
      return 0;
    }
    cause = result.problems.front() +
            (result.problems.size() > 1 ? fmt::format(" (and {} more)", result.problems.size() - 1) : "");
  } catch (const SQLite::Exception& e) {
    if (!db::is_corruption(e)) throw;
    cause = e.what();
  }
  return handle_corruption(c, context, cause, metrics);
}

}  // namespace

int run(const Command& c, app::Context& context) {
  // One check, recovery or vacuum at a time: worker instances that start together each run the pre-start
  // check, and two recoveries would each swap the database.
  if (auto made = util::ensure_directory(context.state_dir); !made)
    throw Error(ExitCode::io_error, "state directory: " + made.error());
  auto lock = util::FileLock::acquire(context.state_dir / "integrity.lock");
  if (!lock) throw Error(ExitCode::io_error, lock.error());
  // A recovery killed midway leaves its copy of the backup beside the database.
  for (const auto& file : oos::backup::remove_orphaned_temporaries(context.state_dir))
    context.logger->warn(oos::backup::orphan_warning(file, DryRun::no));
  if (c.vacuum) return vacuum(c, context);
  // Exit 1 (recovered from a backup) is the job done; 2 (nothing to recover from) is a failure, not
  // recorded in the database it found damaged.
  return app::run_job(context, {"integrity", "integrity.ok", {0, 1}, false},
                      [&](metrics::Exposition& metrics) { return check(c, context, metrics); });
}

}  // namespace oos::tools::integrity
