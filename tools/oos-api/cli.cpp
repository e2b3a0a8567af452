#include "cli.hpp"

#include "app/cli.hpp"

namespace oos::tools::api {

std::optional<int> parse(int argc, char** argv, Command& c) {
  CLI::App app{"The HTTP API over the queue: the CLI's JSON documents over HTTP.", "oos-api"};
  app::add_common_options(app, c.common);
  app.add_option("--listen", c.listen,
                 "Bind ADDR:PORT itself (port 0: a free one) instead of taking systemd's socket; without either, "
                 "127.0.0.1:8765")
      ->type_name("ADDR:PORT");
  return app::parse_command_line(app, argc, argv);
}

}  // namespace oos::tools::api
