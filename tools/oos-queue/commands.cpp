#include "commands.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "app/output.hpp"
#include "db/progress_handler.hpp"
#include "error.hpp"
#include "external.hpp"
#include "keys/ring_status.hpp"
#include "metrics/queue_metrics.hpp"
#include "queue/batch_line.hpp"
#include "queue/id_completion.hpp"
#include "queue/queue_store.hpp"
#include "util/files.hpp"
#include "util/progress.hpp"

namespace oos::tools::queue {
namespace {

using namespace oos::app;

using oos::queue::NewTask;

// Room for a batch line's fields around its payload ("type", "priority", "delay", "unique_key" ...).
constexpr std::uint64_t k_batch_envelope = 64ull << 10;
// The most `enqueue --batch` reads from stdin, whatever the payload limit.
constexpr std::uint64_t k_max_batch_input = 256ull << 20;

// --data: JSON text, @FILE or - for stdin. Reading stops one byte past `max_payload`: /dev/zero or endless
// stdin is refused (65) without growing.
std::string read_payload(const std::optional<std::string>& data, std::uint64_t max_payload) {
  if (!data) return "{}";
  if (*data == "-") {
    auto content = util::read_at_most(std::cin, max_payload);
    if (!content) throw Error(ExitCode::data_error, oos::queue::payload_too_large(max_payload));
    return *content;
  }
  if (data->starts_with("@")) {
    auto content = util::read_file_within(data->substr(1), max_payload);
    if (!content) throw Error(ExitCode::no_input, "--data: " + content.error());
    if (!*content) throw Error(ExitCode::data_error, oos::queue::payload_too_large(max_payload));
    return **content;
  }
  return *data;
}

void print_enqueued(const oos::queue::EnqueueResult& r, const NewTask& task, bool as_json) {
  if (as_json)
    std::cout << dump(enqueued_document(r, task)) << '\n';
  else
    std::cout << r.id << '\n';
}

// `enqueue --batch`: the tasks of stdin's lines in one transaction. Its progress line (on a terminal, without
// --json) shows the parse by bytes of stdin, then on SQLite the insert's time (one store call, no measure of its own).
int enqueue_batch(const Command& c, app::Context& ctx, store::Backend& backend) {
  if (!c.type.empty() || c.data)
    throw Error(ExitCode::usage, "enqueue --batch takes the type and data from each stdin line, not arguments");
  auto line_limit = ctx.config.queue_settings(c.queue).max_payload + k_batch_envelope;
  auto input = util::read_at_most(std::cin, std::max(k_max_batch_input, line_limit));
  if (!input)
    throw Error(
        ExitCode::data_error,
        "stdin is larger than " + util::size_words(std::max(k_max_batch_input, line_limit)) + ": split the batch");
  util::Progress progress("enqueue", util::progress_on_stderr(c.json), ctx.clock, util::write_stderr);
  auto report = progress.callback();
  auto size = static_cast<std::uint64_t>(input->size());
  std::vector<NewTask> tasks;
  std::istringstream in(std::move(*input));
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.size() > line_limit)
      throw Error(ExitCode::data_error, fmt::format("stdin line {}: longer than {} (queue.max_payload + {})", number,
                                                    util::size_words(line_limit), util::size_words(k_batch_envelope)));
    if (line.find_first_not_of(" \t\r") != std::string::npos)
      tasks.push_back(oos::queue::parse_batch_line(line, number, c.queue));
    if (report)
      report({.stage = "parse",
              .done = in.eof() ? size : static_cast<std::uint64_t>(in.tellg()),
              .total = size,
              .unit = util::ProgressUnit::bytes});
  }
  std::vector<oos::queue::EnqueueResult> results;
  {
    std::optional<db::ProgressHandler> ticks;
    if (auto* db = backend.sqlite(); db && report)
      ticks.emplace(db->raw(), [&report] { report(util::time_only("insert")); });
    results = backend.tasks().enqueue_batch(tasks);
  }
  progress.finish();
  for (std::size_t i = 0; i < results.size(); ++i) print_enqueued(results[i], tasks[i], c.json);
  ctx.logger->debug(fmt::format("enqueued {} tasks in queue {}", results.size(), c.queue), {{"queue", c.queue}});
  return 0;
}

// `enqueue TYPE`: one task.
int enqueue(const Command& c, app::Context& ctx, oos::queue::TaskStore& store) {
  if (c.type.empty()) throw Error(ExitCode::usage, "enqueue: TYPE is required (or use --batch)");
  NewTask task{c.queue,     c.type,          read_payload(c.data, ctx.config.queue_settings(c.queue).max_payload),
               c.priority,  util::Millis(0), c.max_attempts,
               c.unique_key};
  if (c.delay) {
    auto delay = util::parse_duration(*c.delay);
    if (!delay) throw Error(ExitCode::usage, "--delay: " + delay.error());
    if (*delay > oos::queue::k_max_delay)
      throw Error(ExitCode::usage, "--delay: '" + *c.delay + "' is too large (at most " +
                                       util::format_duration(oos::queue::k_max_delay) + ")");
    task.delay = *delay;
  }
  auto result = store.enqueue(task);
  print_enqueued(result, task, c.json);
  ctx.logger->debug(
      fmt::format("task {} {} in queue {}", result.id, result.created ? "enqueued" : "already active", c.queue),
      {{"task_id", std::to_string(result.id)}, {"queue", c.queue}});
  return 0;
}

// `metrics`: the queues' exposition on stdout, or with --textfile in <metrics.textfile_dir>/oos_queue.prom
// (the file the workers write too).
int export_metrics(const Command& c, app::Context& ctx, store::Backend& backend) {
  const auto& dir = ctx.config.metrics.textfile_dir;
  if (c.textfile && dir.empty())
    throw Error(ExitCode::config, "metrics --textfile: metrics.textfile_dir is not set in the config");
  auto text = oos::metrics::queue_metrics(backend, ctx.clock.now()).text();
  if (!c.textfile) {
    std::cout << text;
    return 0;
  }
  if (auto written = oos::metrics::write_textfile(dir, "queue", text); !written)
    throw Error(ExitCode::io_error, written.error());
  return 0;
}

// Task ids `__complete ids` offers at most: the newest that start with what was typed.
constexpr std::int64_t k_completion_ids = 50;

// `__complete queues|ids [PREFIX]` (hidden): the words completion/oos.bash offers, one a line.
int print_completions(const Command& c, store::Backend& backend) {
  if (c.complete_what == "queues") {
    for (const auto& name : backend.queues().names())
      if (name.starts_with(c.prefix)) std::cout << name << '\n';
    return 0;
  }
  auto status = c.status ? oos::queue::parse_task_status(*c.status) : std::nullopt;
  for (auto id : oos::queue::complete_ids(backend.tasks(), c.prefix, status, k_completion_ids)) std::cout << id << '\n';
  return 0;
}

}  // namespace

int run(const Command& c, app::Context& ctx, store::Backend& backend) {
  oos::queue::TaskStore& store = backend.tasks();
  oos::queue::QueueStore& queues = backend.queues();
  auto now = ctx.clock.now();
  switch (c.verb) {
    case Verb::enqueue: return c.batch ? enqueue_batch(c, ctx, backend) : enqueue(c, ctx, store);
    case Verb::status: {
      auto all = queues.status(now);
      // Why a handler's tasks wait although they are due: every key of its ring cools down (one read per ring).
      auto cooling = keys::waiting_rings(backend.key_rings(), ctx.config, now);
      if (c.json) {
        std::cout << dump(status_document(all, now, cooling)) << '\n';
      } else {
        std::cout << status_table(all, now) << cooling_rings_text(cooling);
      }
      for (const auto& s : all)
        for (const auto& alert : s.alerts)
          ctx.logger->warn(fmt::format("queue {}: {}", s.name, alert), {{"queue", s.name}});
      return 0;
    }
    case Verb::stats: {
      auto stats = queues.stats(c.queue, now);
      if (!stats) throw oos::queue::unknown_queue(c.queue);
      std::cout << (c.json ? dump(to_json(*stats, now)) + "\n" : stats_text(*stats, now));
      return 0;
    }
    case Verb::list: {
      queues.require_known(c.queue);
      auto status = c.status ? oos::queue::parse_task_status(*c.status) : std::nullopt;
      auto tasks = store.list(c.queue, status, c.limit);
      if (c.json) {
        for (const auto& t : tasks) std::cout << dump(to_json(t)) << '\n';
      } else {
        std::cout << task_table(tasks);
      }
      return 0;
    }
    case Verb::show: print_task(std::cout, store, c.id, c.json); return 0;
    case Verb::cancel:
      store.cancel(c.id);
      std::cout << fmt::format("task {} cancelled\n", c.id);
      return 0;
    case Verb::pause:
    case Verb::resume: {
      bool pause = c.verb == Verb::pause;
      bool changed = queues.set_paused(c.queue, pause, now);
      if (c.json)
        std::cout << dump(paused_document(c.queue, pause, changed)) << '\n';
      else
        std::cout << fmt::format("queue {} {}{}\n", c.queue, changed ? "" : "was already ",
                                 pause ? "paused" : "resumed");
      return 0;
    }
    case Verb::breaker: {
      queues.require_known(c.queue);
      if (c.reset) {
        auto before = queues.breakers().reset("queue", c.queue, now);
        auto after = queues.breakers().load("queue", c.queue);
        if (c.json)
          std::cout << dump(breaker_reset_document(c.queue, before, after)) << '\n';
        else
          std::cout << fmt::format("breaker of queue {} closed (was {})\n", c.queue, policy::to_string(before.state));
        return 0;
      }
      auto record = queues.breakers().load("queue", c.queue);
      if (c.json)
        std::cout << dump(breaker_document(c.queue, record)) << '\n';
      else
        std::cout << breaker_text(c.queue, record, now);
      return 0;
    }
    case Verb::metrics: return export_metrics(c, ctx, backend);
    case Verb::claim:
    case Verb::complete:
    case Verb::fail:
    case Verb::renew: return run_external(c, ctx, store);
    case Verb::complete_words: return print_completions(c, backend);
  }
  return 0;
}

}  // namespace oos::tools::queue
