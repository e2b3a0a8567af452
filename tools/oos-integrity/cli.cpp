#include "cli.hpp"

#include "app/cli.hpp"

namespace oos::tools::integrity {

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

}  // namespace oos::tools::integrity
