#include "commands.hpp"

#include <fmt/format.h>

#include <iostream>

#include "app/output.hpp"
#include "error.hpp"
#include "log.hpp"
#include "util/progress.hpp"

namespace oos::tools::retry {
namespace {

using nlohmann::json;

queue::DeadFilter filter_of(const Command& c) {
  return {c.queue, c.type, c.error_match};
}

// `requeue`. With --all (not a dry run) the store requeues in batches and reports them to a progress line on a
// terminal (docs/reference.md, "Progress on a terminal"), which its log lines (one per task requeued) erase first,
// so that each starts on a clean line; the line is cleared before the result is printed.
int requeue(const Command& c, app::Context& ctx, queue::TaskStore& store) {
  if (c.ids.empty() && !c.all)
    throw Error(ExitCode::usage, "requeue: give task ids, or --all (with --queue/--type/--error-match to narrow it)");
  if (!c.ids.empty() && (c.all || c.queue || c.type || c.error_match))
    throw Error(ExitCode::usage, "requeue: give either task ids or --all with filters, not both");
  bool dry = c.dry_run == DryRun::yes;
  std::vector<queue::TaskId> ids;
  {
    util::Progress progress("requeue", util::progress_on_stderr(c.json), ctx.clock, util::write_stderr);
    log::ClearBeforeStderr clear(*ctx.logger, [&progress] { progress.finish(); });
    ids = store.requeue(c.ids, filter_of(c), c.dry_run, progress.callback());
  }
  if (c.json) {
    std::cout << app::dump(app::requeued_document(ids, dry)) << '\n';
  } else {
    for (auto id : ids) std::cout << fmt::format("{} task {}\n", dry ? "would requeue" : "requeued", id);
    if (ids.empty()) std::cout << "no dead task matches\n";
  }
  return 0;
}

int purge(const Command& c, const app::Context& ctx, queue::TaskStore& store) {
  queue::PurgeOptions options;
  options.succeeded = false;
  options.dry_run = c.dry_run;
  bool dry = c.dry_run == DryRun::yes;
  if (c.older_than) {
    auto older = util::parse_duration(*c.older_than);
    if (!older) throw Error(ExitCode::usage, "--older-than: " + older.error());
    options.older_than = *older;
  }
  auto result = store.purge(options);
  if (c.json) {
    std::cout << app::dump(json{{"deleted", result.dead}, {"dry_run", dry}}) << '\n';
  } else {
    std::cout << fmt::format("{} {} dead task{}\n", dry ? "would delete" : "deleted", result.dead,
                             result.dead == 1 ? "" : "s");
  }
  if (!dry && result.dead > 0)
    ctx.logger->info(fmt::format("purged {} dead tasks", result.dead), {{"count", std::to_string(result.dead)}});
  return 0;
}

}  // namespace

int run(const Command& c, app::Context& ctx, store::Backend& backend) {
  auto& store = backend.tasks();
  switch (c.verb) {
    case Verb::list: {
      auto tasks = store.list_dead(filter_of(c), c.limit);
      if (c.json) {
        for (const auto& t : tasks) std::cout << app::dump(app::to_json(t)) << '\n';
      } else if (tasks.empty()) {
        std::cout << "the dead letter queue is empty\n";
      } else {
        std::cout << app::task_table(tasks);
        std::cout << "requeue with 'oos-retry ID...' or 'oos-retry requeue --all --queue Q'\n";
      }
      return 0;
    }
    case Verb::show: app::print_task(std::cout, store, c.ids.at(0), c.json); return 0;
    case Verb::requeue: return requeue(c, ctx, store);
    case Verb::purge: return purge(c, ctx, store);
  }
  return 0;
}

}  // namespace oos::tools::retry
