#include "commands.hpp"

#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "app/job.hpp"
#include "app/output.hpp"
#include "backup/backup.hpp"
#include "db/events.hpp"
#include "error.hpp"
#include "util/progress.hpp"

namespace oos::tools::backup {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace oos::backup;

std::string mib(std::uint64_t bytes) {
  return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20));
}

// The progress line of `label`'s work on stderr when it is a terminal and the output is not --json.
util::Progress progress_line(const Command& c, app::Context& context, std::string label) {
  return util::Progress(std::move(label), util::progress_on_stderr(c.json), context.clock, util::write_stderr);
}

void log_orphans(app::Context& context, const std::vector<fs::path>& removed, DryRun dry_run) {
  for (const auto& file : removed) context.logger->warn(orphan_warning(file, dry_run));
}

int create(const Command& c, app::Context& context, db::Database& db, metrics::Exposition& metrics) {
  auto progress = progress_line(c, context, "backup");
  auto created = create_backup(db, context.backup_dir(), context.clock.now(), progress.callback());
  progress.finish();
  log_orphans(context, created.orphans_removed, DryRun::no);
  const auto& m = created.manifest;
  auto detail = fmt::format("{} bytes, {} tasks, sha256 {}, copied in {:.2f}s ({} steps, {} restarts{})", m.size,
                            m.tasks, m.sha256, created.copy.seconds, created.copy.steps, created.copy.restarts,
                            created.copy.held_read_transaction ? ", finished under one read transaction" : "");
  db::record_event_alone(db, context.clock.now(), "backup.created", "backup/" + m.file, detail);
  context.logger->info(fmt::format("backup {} created and verified: {}", created.path.string(), detail),
                       {{"backup", m.file}});
  metrics
      .add("oos_backup_last_size_bytes", metrics::Type::gauge, "Size of the newest backup", static_cast<double>(m.size))
      .add("oos_backup_last_tasks", metrics::Type::gauge, "Tasks in the newest backup", static_cast<double>(m.tasks))
      .add("oos_backup_files", metrics::Type::gauge, "Backups in backup.dir",
           static_cast<double>(list_backups(context.backup_dir()).size()));
  if (c.json) {
    auto doc = json::parse(to_json(m));
    doc["path"] = created.path.string();
    doc["verified"] = true;
    doc["copy"] = {{"seconds", created.copy.seconds},
                   {"steps", created.copy.steps},
                   {"restarts", created.copy.restarts},
                   {"held_read_transaction", created.copy.held_read_transaction}};
    std::cout << app::dump(doc) << '\n';
  } else {
    std::cout << fmt::format("backup {}: {}, {} tasks, verified (sha256 {}), copied in {:.2f}s\n",
                             created.path.string(), mib(m.size), m.tasks, m.sha256.substr(0, 16), created.copy.seconds);
  }
  return 0;
}

int verify(const Command& c, app::Context& context, db::Database& db) {
  fs::path file;
  if (c.file) {
    file = *c.file;
  } else {
    auto backups = list_backups(context.backup_dir());
    if (backups.empty())
      throw Error(ExitCode::no_input, "no backups in " + context.backup_dir().string() + " to verify");
    file = backups.front().path;
  }
  if (!fs::exists(file)) throw Error(ExitCode::no_input, "backup '" + file.string() + "' not found");
  auto progress = progress_line(c, context, "verify");
  auto result = verify_backup(file, progress.callback());
  progress.finish();
  if (c.json)
    std::cout << app::dump(json{{"path", file.string()}, {"ok", result.ok}, {"problem", result.problem}}) << '\n';
  if (!result.ok) {
    db::record_event_alone(db, context.clock.now(), "backup.verify_failed", "backup/" + file.filename().string(),
                           result.problem);
    throw Error(ExitCode::data_error, result.problem + "; use another backup");
  }
  if (!c.json)
    std::cout << fmt::format("backup {}: ok (size and SHA-256 match the manifest, integrity ok, {} tasks)\n",
                             file.string(), result.manifest->tasks);
  return 0;
}

int restore(const Command& c, app::Context& context, db::Database& db) {
  auto progress = progress_line(c, context, "restore");
  fs::path file;
  if (c.file) {
    file = *c.file;
    if (!fs::exists(file)) throw Error(ExitCode::no_input, "backup '" + file.string() + "' not found");
  } else {
    std::vector<std::string> skipped;
    auto newest = newest_verified_backup(context.backup_dir(), skipped, progress.callback());
    progress.finish();
    for (const auto& problem : skipped) context.logger->warn(problem + "; skipped");
    if (!newest)
      throw Error(ExitCode::unavailable,
                  "no backup in " + context.backup_dir().string() + " verifies; nothing was restored");
    file = *newest;
  }
  auto restored = restore_backup(db, file, context.clock.now(), progress.callback());
  progress.finish();
  log_orphans(context, restored.orphans_removed, DryRun::no);
  context.logger->warn(fmt::format("database restored from {} ({} tasks as of {}); the previous one is kept as {}",
                                   file.string(), restored.manifest.tasks,
                                   util::format_iso8601(restored.manifest.created_at), restored.kept_aside.string()));
  if (c.json)
    std::cout << app::dump(json{{"restored", file.string()},
                                {"tasks", restored.manifest.tasks},
                                {"backup_created_at", util::format_iso8601(restored.manifest.created_at)},
                                {"kept_aside", restored.kept_aside.string()}})
              << '\n';
  else
    std::cout << fmt::format("restored {} ({} tasks as of {}); the previous database is kept as {}\n", file.string(),
                             restored.manifest.tasks, util::format_iso8601(restored.manifest.created_at),
                             restored.kept_aside.string());
  return 0;
}

int prune(const Command& c, app::Context& context, db::Database& db) {
  const auto& settings = context.config.backup;
  bool dry = c.dry_run == DryRun::yes;
  auto result =
      prune_backups(context.backup_dir(), {settings.keep_last, settings.keep_daily, settings.keep_weekly}, c.dry_run);
  log_orphans(context, result.orphans_removed, c.dry_run);
  // Restores leave theirs beside the database (a second sweep of one directory finds nothing).
  log_orphans(context, remove_orphaned_temporaries(context.state_dir, c.dry_run), c.dry_run);
  if (!dry && !result.deleted.empty())
    db::record_event_alone(db, context.clock.now(), "backup.pruned", "backups",
                           fmt::format("deleted {}, kept {}", result.deleted.size(), result.kept.size()));
  if (c.json) {
    json deleted = json::array();
    for (const auto& p : result.deleted) deleted.push_back(p.filename().string());
    std::cout << app::dump(json{{"dry_run", dry}, {"deleted", deleted}, {"kept", result.kept.size()}}) << '\n';
    return 0;
  }
  for (const auto& p : result.deleted)
    std::cout << (dry ? "would delete " : "deleted ") << p.filename().string() << '\n';
  std::cout << fmt::format("{} kept (keep_last {}, keep_daily {}, keep_weekly {})\n", result.kept.size(),
                           settings.keep_last, settings.keep_daily, settings.keep_weekly);
  return 0;
}

}  // namespace

int run(const Command& c, app::Context& context, db::Database& db) {
  switch (c.verb) {
    case Verb::create:
      return app::run_job(context, {"backup", "backup.created"},
                          [&](metrics::Exposition& metrics) { return create(c, context, db, metrics); });
    case Verb::list: return list(c, context);
    case Verb::verify: return verify(c, context, db);
    case Verb::restore: return restore(c, context, db);
    case Verb::prune: return prune(c, context, db);
  }
  return 0;
}

int list(const Command& c, app::Context& context) {
  auto now = context.clock.now();
  auto backups = list_backups(context.backup_dir());
  if (c.json) {
    for (const auto& b : backups)
      std::cout << app::dump(json{{"path", b.path.string()},
                                  {"created_at", util::format_iso8601(b.created)},
                                  {"size", b.size},
                                  {"verified", b.has_manifest}})
                << '\n';
    return 0;
  }
  if (backups.empty()) {
    std::cout << "no backups in " << context.backup_dir().string() << "; create one with 'oos-backup'\n";
    return 0;
  }
  std::cout << fmt::format("{:<24} {:>8} {:>12}  {}\n", "BACKUP", "AGE", "SIZE", "VERIFIED");
  for (const auto& b : backups)
    std::cout << fmt::format("{:<24} {:>8} {:>12}  {}\n", b.path.filename().string(), app::age(b.created, now),
                             mib(b.size), b.has_manifest ? "yes (manifest)" : "no manifest: not usable");
  return 0;
}

}  // namespace oos::tools::backup
