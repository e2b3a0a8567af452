#include "cli.hpp"

#include "app/cli.hpp"

namespace oos::tools::cleanup {

std::optional<int> parse(int argc, char** argv, Command& c) {
  CLI::App app{"Disk check, cleanup rules above the threshold, task retention; every action logged.", "oos-cleanup"};
  app::add_common_options(app, c.common);
  app::add_dry_run_flag(app, c.dry_run, "Go through everything, delete nothing");
  app.add_flag("--force", c.force, "Apply the cleanup rules whatever the disk usage");
  app.add_flag("--json", c.json, "Print JSON");
  return app::parse_command_line(app, argc, argv);
}

}  // namespace oos::tools::cleanup
