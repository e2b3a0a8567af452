#include "cli.hpp"

#include "app/cli.hpp"

namespace oos::tools::health {

std::optional<int> parse(int argc, char** argv, Command& c) {
  CLI::App app{
      "Checks the database, backups, disks, queues, workers, search providers and key rings; prints OOS "
      "OK/WARNING/CRITICAL/UNKNOWN first and exits 0/1/2/3 like a Nagios plugin.",
      "oos-health"};
  app.fallthrough();
  app.require_subcommand(0, 1);
  app::add_common_options(app, c.common);
  app.add_flag("--json", c.json, "Print JSON");

  auto* validate = app.add_subcommand(
      "validate", "Check the config, the secrets it names, the state directory and the installed units");
  validate->add_option("--root", c.root, "Look for installed units under this root (default /)")
      ->type_name("DIR")
      ->check(CLI::ExistingDirectory);
  validate->callback([&] { c.verb = Verb::validate; });
  return app::parse_command_line(app, argc, argv);
}

}  // namespace oos::tools::health
