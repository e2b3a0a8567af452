#include "cli.hpp"

#include "app/cli.hpp"

#include <iostream>

namespace oos::tools::backup {

std::optional<int> parse(int argc, char** argv, Command& c) {
  CLI::App app{"Verified online backups of the state database, with retention.", "oos-backup"};
  app.fallthrough();
  app.require_subcommand(0, 1);
  app::add_common_options(app, c.common);
  app.add_flag("--json", c.json, "Print JSON");

  auto* create = app.add_subcommand("create", "Back up now (the default verb)");
  create->callback([&] { c.verb = Verb::create; });

  auto* list = app.add_subcommand("list", "Backups, newest first: age, size, verified");
  list->callback([&] { c.verb = Verb::list; });

  auto* verify = app.add_subcommand("verify", "Check a backup's checksum and integrity (default: the newest)");
  verify->add_option("file", c.file, "Backup file")->type_name("FILE");
  verify->callback([&] { c.verb = Verb::verify; });

  auto* restore = app.add_subcommand("restore", "Replace the database with a verified backup");
  auto* file = restore->add_option("file", c.file, "Backup file")->type_name("FILE");
  restore->add_flag("--latest", c.latest, "The newest backup that verifies")->excludes(file);
  restore->callback([&] { c.verb = Verb::restore; });

  auto* prune = app.add_subcommand("prune", "Delete backups the retention policy does not keep");
  app::add_dry_run_flag(*prune, c.dry_run, "Print what would be deleted, delete nothing");
  prune->callback([&] { c.verb = Verb::prune; });

  if (auto done = app::parse_command_line(app, argc, argv)) return done;
  if (c.verb == Verb::restore && !c.file && !c.latest) {
    std::cerr << "oos-backup: error: restore: name a backup FILE or use --latest\n";
    return 64;
  }
  return std::nullopt;
}

}  // namespace oos::tools::backup
