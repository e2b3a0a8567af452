#include "cli.hpp"

#include <fmt/format.h>

#include "app/cli.hpp"
#include "queue/task.hpp"

namespace oos::tools::queue {
std::optional<int> parse(int argc, char** argv, Command& c) {
  CLI::App app{"Enqueue and inspect OOS tasks, pause queues, reset breakers; claim and report tasks from outside.",
               "oos-queue"};
  app.fallthrough();
  app.require_subcommand(1);
  app::add_common_options(app, c.common);

  auto* enqueue = app.add_subcommand("enqueue", "Add a task (or, with --batch, JSON lines from stdin)");
  enqueue->add_option("queue", c.queue, "Queue name")->required()->check(app::k_name);
  enqueue->add_option("type", c.type, "Task type (selects the handler)")->check(app::k_name);
  enqueue->add_option("--data", c.data, "Payload: JSON text, @FILE, or - for stdin (default {})");
  enqueue->add_option("--priority", c.priority, "Higher runs first (default 0)");
  enqueue->add_option("--delay", c.delay, "Not before this long from now, e.g. 30s")->type_name("DUR");
  enqueue->add_option("--max-attempts", c.max_attempts, "Attempts before dead-lettering")->check(app::k_at_least_one);
  enqueue->add_option("--unique-key", c.unique_key, "Return the active task with this key instead of a duplicate");
  enqueue->add_flag("--batch", c.batch, "Read JSON lines {\"type\":..,\"data\":..} from stdin, one transaction");
  enqueue->add_flag("--json", c.json, "Print JSON");
  enqueue->callback([&] { c.verb = Verb::enqueue; });

  auto* status = app.add_subcommand("status", "Every queue: counts, oldest wait, paused, breaker, alerts");
  status->add_flag("--json", c.json, "Print JSON");
  status->callback([&] { c.verb = Verb::status; });

  auto* stats = app.add_subcommand("stats", "One queue in detail, with the last hour's runs");
  stats->add_option("queue", c.queue, "Queue name")->required()->check(app::k_name);
  stats->add_flag("--json", c.json, "Print JSON");
  stats->callback([&] { c.verb = Verb::stats; });

  auto* list = app.add_subcommand("list", "Tasks of a queue, newest first");
  list->add_option("queue", c.queue, "Queue name")->required()->check(app::k_name);
  list->add_option("--status", c.status, "pending, running, succeeded, dead or cancelled")
      ->check(CLI::IsMember({"pending", "running", "succeeded", "dead", "cancelled"}));
  list->add_option("--limit", c.limit, fmt::format("At most this many (default {})", oos::queue::k_default_task_limit))
      ->check(app::k_at_least_one);
  list->add_flag("--json", c.json, "Print JSON");
  list->callback([&] { c.verb = Verb::list; });

  auto* show = app.add_subcommand("show", "One task with its attempt history");
  show->add_option("id", c.id, "Task id")->required()->check(app::k_task_id);
  show->add_flag("--json", c.json, "Print JSON");
  show->callback([&] { c.verb = Verb::show; });

  auto* cancel = app.add_subcommand("cancel", "Cancel a pending task");
  cancel->add_option("id", c.id, "Task id")->required()->check(app::k_task_id);
  cancel->callback([&] { c.verb = Verb::cancel; });

  auto* pause = app.add_subcommand("pause", "Stop workers from claiming tasks of a queue");
  pause->add_option("queue", c.queue, "Queue name")->required()->check(app::k_name);
  pause->add_flag("--json", c.json, "Print JSON");
  pause->callback([&] { c.verb = Verb::pause; });

  auto* resume = app.add_subcommand("resume", "Let workers claim tasks of a paused queue again");
  resume->add_option("queue", c.queue, "Queue name")->required()->check(app::k_name);
  resume->add_flag("--json", c.json, "Print JSON");
  resume->callback([&] { c.verb = Verb::resume; });

  auto* breaker = app.add_subcommand("breaker", "Show a queue's circuit breaker; --reset closes it");
  breaker->add_option("queue", c.queue, "Queue name")->required()->check(app::k_name);
  breaker->add_flag("--reset", c.reset, "Close the breaker by hand");
  breaker->add_flag("--json", c.json, "Print JSON");
  breaker->callback([&] { c.verb = Verb::breaker; });

  auto* metrics = app.add_subcommand("metrics", "Prometheus text exposition of every queue on stdout");
  metrics->add_flag("--textfile", c.textfile,
                    "Write it to oos_queue.prom in metrics.textfile_dir instead (replaced atomically)");
  metrics->callback([&] { c.verb = Verb::metrics; });

  auto* claim =
      app.add_subcommand("claim", "Take the next runnable task of a queue and its lease (an external worker)");
  claim->add_option("queue", c.queue, "Queue name")->required()->check(app::k_name);
  claim->add_option("--lease", c.lease, "Lease length, e.g. 5m (default: the queue's lease)")->type_name("DUR");
  claim->add_option("--worker", c.worker, "Worker name in the task's history (default external:HOST:PID)")
      ->check(app::k_name);
  claim->add_flag("--json", c.json, "Print JSON (null when there was nothing to claim)");
  claim->callback([&] { c.verb = Verb::claim; });

  auto* complete = app.add_subcommand("complete", "Report a claimed task succeeded");
  complete->add_option("id", c.id, "Task id")->required()->check(app::k_task_id);
  complete->add_option("--token", c.token, "The lease token the claim printed")->required();
  complete->add_option("--result", c.result, "Result: JSON text or @FILE (default none)");
  complete->add_flag("--json", c.json, "Print JSON");
  complete->callback([&] { c.verb = Verb::complete; });

  auto* fail = app.add_subcommand("fail", "Report a claimed task failed: retried after the backoff, or dead");
  fail->add_option("id", c.id, "Task id")->required()->check(app::k_task_id);
  fail->add_option("--token", c.token, "The lease token the claim printed")->required();
  fail->add_option("--error", c.error, "What went wrong (kept as the task's last error)")->required();
  fail->add_flag("--permanent", c.permanent, "Dead at once, no retry");
  fail->add_flag("--json", c.json, "Print JSON");
  fail->callback([&] { c.verb = Verb::fail; });

  auto* renew = app.add_subcommand("renew", "Extend the lease of a claimed task");
  renew->add_option("id", c.id, "Task id")->required()->check(app::k_task_id);
  renew->add_option("--token", c.token, "The lease token the claim printed")->required();
  renew->add_option("--lease", c.lease, "New lease length from now (default: the queue's lease)")->type_name("DUR");
  renew->add_flag("--json", c.json, "Print JSON");
  renew->callback([&] { c.verb = Verb::renew; });

  // Hidden from --help (no group): the queue names and task ids the shell completion offers (completion/oos.bash).
  auto* words = app.add_subcommand("__complete", "Words for the shell completion, one a line")->group("");
  words->add_option("what", c.complete_what, "queues or ids")->required()->check(CLI::IsMember({"queues", "ids"}));
  words->add_option("prefix", c.prefix, "What was typed of the word");
  words->add_option("--status", c.status, "ids: only tasks of this status (among the newest)")
      ->check(CLI::IsMember({"pending", "running", "succeeded", "dead", "cancelled"}));
  words->callback([&] { c.verb = Verb::complete_words; });

  return app::parse_command_line(app, argc, argv);
}

db::Access access(const Command& c) {
  switch (c.verb) {
    case Verb::status:
    case Verb::stats:
    case Verb::list:
    case Verb::show:
    case Verb::metrics:
    case Verb::complete_words: return db::Access::read_only;
    case Verb::breaker: return c.reset ? db::Access::read_write : db::Access::read_only;
    default: return db::Access::read_write;
  }
}

}  // namespace oos::tools::queue
