#include "cli.hpp"

#include "app/cli.hpp"

namespace oos::tools::scale {

std::optional<int> parse(int argc, char** argv, Command& c) {
  CLI::App app{
      "Samples load, memory and queue depth, decides how many workers should run, starts or stops "
      "oos-worker@N instances, and says why.",
      "oos-scale"};
  app::add_common_options(app, c.common);
  app::add_dry_run_flag(app, c.dry_run, "Decide and report, start and stop nothing");
  app.add_flag("--json", c.json, "Print JSON");
  return app::parse_command_line(app, argc, argv);
}

}  // namespace oos::tools::scale
