// oos-integrity: checks the state database, vacuums it when fragmented, and recovers it from the newest
// verified backup when it is corrupt (DESIGN.md section 7).
#include <SQLiteCpp/Exception.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cli.hpp"
#include "app/context.hpp"
#include "app/output.hpp"
#include "db/events.hpp"
#include "error.hpp"
#include "integrity/integrity.hpp"

namespace {

namespace fs = std::filesystem;
using namespace oos;
using nlohmann::json;

struct Command {
  app::CommonOptions common;
  bool vacuum = false;  // the vacuum verb
  bool quick = false;
  bool no_repair = false;
  bool json = false;
};

std::optional<int> parse(int argc, char** argv, Command& c) {
  CLI::App app{"Checks the state database; vacuums it when fragmented; recovers it from a backup when corrupt.",
               "oos-integrity"};
  app.fallthrough();
  app.require_subcommand(0, 1);
  app::add_common_options(app, c.common);
  app.add_flag("--json", c.json, "Print JSON");
  app.add_flag("--quick", c.quick, "PRAGMA quick_check instead of integrity_check");
  app.add_flag("--no-repair", c.no_repair, "Only report: do not recover a corrupt database");
  app.add_subcommand("check", "Integrity and foreign-key checks (the default verb)");
  auto* vacuum = app.add_subcommand("vacuum", "VACUUM now, whatever the fragmentation");
  vacuum->callback([&] { c.vacuum = true; });
  return app::parse_command_line(app, argc, argv);
}

void record(db::Database& db, util::UnixMillis now, std::string_view kind, const std::string& detail) {
  db::WriteTransaction tx(db);
  db::record_event(db, now, kind, "database", detail);
  tx.commit();
}

bool is_corruption(const SQLite::Exception& e) {
  int code = e.getErrorCode() & 0xff;
  return code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
}

// The database is corrupt (`cause`): recover it unless told not to. Exit 1 recovered, 2 not.
int handle_corruption(const Command& c, app::Context& context, const std::string& cause) {
  auto now = context.clock.now();
  auto& log = *context.logger;
  if (c.no_repair) {
    log.critical(
        fmt::format("database '{}' is corrupt: {}; not repaired (--no-repair)", context.db_path().string(), cause));
    if (c.json) std::cout << app::dump(json{{"ok", false}, {"problems", {cause}}, {"repaired", false}}) << '\n';
    return 2;
  }
  auto recovery = integrity::recover(context.db_path(), context.backup_dir(), now);
  for (const auto& skipped : recovery.skipped) log.warn(skipped + "; skipped");
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
  auto window = fmt::format("changes after {} up to {} may be lost", util::format_iso8601(*recovery.backup_time),
                            util::format_iso8601(now));
  auto detail = fmt::format("corrupt ({}); restored from {}; {}; the damaged files are in {}", cause,
                            recovery.restored_from->string(), window, recovery.quarantine.string());
  auto db = app::open_database(context);
  record(*db, now, "integrity.recovered", detail);
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

int run_check(const Command& c, app::Context& context) {
  std::string cause;
  try {
    auto db = app::open_database(context);
    if (c.vacuum) {
      auto v = integrity::vacuum(*db);
      record(*db, context.clock.now(), "integrity.vacuum",
             fmt::format("{} -> {} bytes", v.bytes_before, v.bytes_after));
      std::cout << fmt::format("vacuumed: {} -> {} bytes\n", v.bytes_before, v.bytes_after);
      return 0;
    }
    auto result = integrity::check(*db, c.quick);
    if (result.ok) {
      bool vacuumed = false;
      std::optional<integrity::VacuumResult> v;
      if (integrity::needs_vacuum(result, context.config.integrity.vacuum_threshold_percent)) {
        v = integrity::vacuum(*db);
        vacuumed = true;
      }
      auto detail = fmt::format("{} ok; {} of {} pages free ({:.1f}%){}", c.quick ? "quick_check" : "integrity_check",
                                result.freelist_count, result.page_count, result.fragmentation_percent,
                                v ? fmt::format("; vacuumed {} -> {} bytes", v->bytes_before, v->bytes_after) : "");
      record(*db, context.clock.now(), "integrity.ok", detail);
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
    if (!is_corruption(e)) throw;
    cause = e.what();
  }
  return handle_corruption(c, context, cause);
}

}  // namespace

int main(int argc, char** argv) {
  Command command;
  if (auto done = parse(argc, argv, command)) return *done;
  return app::run_main("oos-integrity", [&](app::RunState& state) {
    auto context = app::make_context("oos-integrity", command.common);
    state.db_path = context.db_path();
    return run_check(command, context);
  });
}
