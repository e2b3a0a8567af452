#include "cli.hpp"

#include "app/cli.hpp"

namespace oos::tools::worker {

std::optional<int> parse(int argc, char** argv, Command& c) {
  CLI::App app{"Runs tasks: claims them from its queues, runs their handlers, records the outcome.", "oos-worker"};
  app::add_common_options(app, c.common);
  app.add_option("--queue", c.queues, "Queue to take tasks from; repeat for several (default: worker.queues)")
      ->check(app::k_name)
      ->take_all();
  app.add_option("--name", c.name, "Worker name in leases, logs and status (default: HOSTNAME:PID)")
      ->check(app::k_name);
  app.add_flag("--drain", c.drain, "Exit 0 once nothing is runnable (waiting up to 10s for a due retry)");
  app.add_option("--max-tasks", c.max_tasks, "Exit after running this many tasks")->check(app::k_at_least_one);
  return app::parse_command_line(app, argc, argv);
}

}  // namespace oos::tools::worker
