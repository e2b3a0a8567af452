#include "cli.hpp"

#include <fmt/format.h>

#include "app/cli.hpp"
#include "error.hpp"
#include "queue/task.hpp"

namespace oos::tools::retry {
namespace {

void add_filters(CLI::App* verb, Command& c) {
  verb->add_option("--queue", c.queue, "Only tasks of this queue")->check(app::k_name);
  verb->add_option("--type", c.type, "Only tasks of this type")->check(app::k_name);
  verb->add_option("--error-match", c.error_match, "Only tasks whose last error contains TEXT")->type_name("TEXT");
}

}  // namespace

std::optional<int> parse(int argc, char** argv, Command& c) {
  CLI::App app{"The dead letter queue: list, inspect, requeue and purge dead tasks.", "oos-retry"};
  app.fallthrough();
  app.require_subcommand(0, 1);
  app::add_common_options(app, c.common);
  app.add_option("ids", c.ids, "Task ids to requeue (the same as 'oos-retry requeue ID...')")->check(app::k_task_id);

  auto* list = app.add_subcommand("list", "Dead tasks, newest first");
  add_filters(list, c);
  list->add_option("--limit", c.limit, fmt::format("At most this many (default {})", oos::queue::k_default_dead_limit))
      ->check(CLI::Range(1, static_cast<int>(oos::queue::k_max_dead_limit)));
  list->add_flag("--json", c.json, "Print JSON lines");
  list->callback([&] { c.verb = Verb::list; });

  auto* show = app.add_subcommand("show", "One task with its attempt history");
  show->add_option("id", c.ids, "Task id")->required()->expected(1)->check(app::k_task_id);
  show->add_flag("--json", c.json, "Print JSON");
  show->callback([&] { c.verb = Verb::show; });

  auto* requeue = app.add_subcommand("requeue", "Put dead tasks back to pending, attempts reset");
  requeue->add_option("ids", c.ids, "Task ids")->check(app::k_task_id);
  requeue->add_flag("--all", c.all, "Every dead task matching the filters");
  add_filters(requeue, c);
  app::add_dry_run_flag(*requeue, c.dry_run, "Print what would be requeued, change nothing");
  requeue->add_flag("--json", c.json, "Print JSON");
  requeue->callback([&] { c.verb = Verb::requeue; });

  auto* purge = app.add_subcommand("purge", "Delete dead tasks older than their retention");
  purge->add_option("--older-than", c.older_than, "Instead of queue.dead_retention, e.g. 3d")->type_name("DUR");
  app::add_dry_run_flag(*purge, c.dry_run, "Count what would be deleted, delete nothing");
  purge->add_flag("--json", c.json, "Print JSON");
  purge->callback([&] { c.verb = Verb::purge; });

  if (auto done = app::parse_command_line(app, argc, argv)) return done;
  // `oos-retry ID...` is requeue; `oos-retry` alone lists.
  if (app.get_subcommands().empty()) c.verb = c.ids.empty() ? Verb::list : Verb::requeue;
  return std::nullopt;
}

db::Access access(const Command& c) {
  return c.verb == Verb::list || c.verb == Verb::show ? db::Access::read_only : db::Access::read_write;
}

}  // namespace oos::tools::retry
