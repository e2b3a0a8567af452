#include "external.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <iostream>

#include "app/output.hpp"
#include "error.hpp"
#include "queue/external.hpp"
#include "util/duration.hpp"
#include "util/files.hpp"
#include "util/process_usage.hpp"

namespace oos::tools::queue {
namespace {

using namespace oos::app;
using oos::queue::TaskStatus;

// The longest --lease: a lost external worker holds its task no longer than this; a longer job renews.
constexpr util::Millis k_max_lease{86'400'000};

// --lease: a duration from 1s to k_max_lease (64 otherwise); nullopt without it (the queue's lease).
std::optional<util::Millis> lease_option(const Command& c) {
  if (!c.lease) return std::nullopt;
  auto lease = util::parse_duration(*c.lease);
  if (!lease) throw Error(ExitCode::usage, "--lease: " + lease.error());
  if (*lease < util::Millis(1000) || *lease > k_max_lease)
    throw Error(ExitCode::usage,
                "--lease: '" + *c.lease + "' is out of range (1s to " + util::format_duration(k_max_lease) + ")");
  return *lease;
}

// --result: JSON text or @FILE (66 when missing, 65 when too large or not JSON); "" without it.
std::string result_option(const Command& c) {
  if (!c.result) return "";
  std::string result = *c.result;
  if (result.starts_with("@")) {
    auto content = util::read_file_within(result.substr(1), oos::queue::k_max_external_result);
    if (!content) throw Error(ExitCode::no_input, "--result: " + content.error());
    if (!*content) throw oos::queue::external_result_too_large();
    result = **content;
  }
  oos::queue::check_external_result(result);
  return result;
}

void print_reported(const Command& c, TaskStatus status, std::optional<util::UnixMillis> retry_at) {
  if (c.json) {
    std::cout << dump(reported_document(c.id, status, retry_at)) << '\n';
  } else if (status == TaskStatus::pending && retry_at) {
    std::cout << fmt::format("task {} failed, retry at {}\n", c.id, util::format_iso8601(*retry_at));
  } else {
    std::cout << fmt::format("task {} {}\n", c.id, oos::queue::to_string(status));
  }
}

}  // namespace

int run_external(const Command& c, app::Context& ctx, oos::queue::TaskStore& store) {
  switch (c.verb) {
    case Verb::claim: {
      auto worker = c.worker.value_or(oos::queue::default_external_worker(util::host_name(), ::getpid()));
      auto claimed = oos::queue::claim_external(store, c.queue, worker, lease_option(c));
      if (c.json)
        std::cout << dump(claimed_document(claimed)) << '\n';
      else
        std::cout << (claimed ? claimed_text(*claimed) : fmt::format("no task to claim in queue {}\n", c.queue));
      if (claimed)
        ctx.logger->debug(fmt::format("task {} claimed by {}", claimed->task.id, worker),
                          {{"task_id", std::to_string(claimed->task.id)}, {"queue", c.queue}});
      return 0;
    }
    case Verb::complete: {
      auto result = result_option(c);
      oos::queue::complete_external(store, c.id, c.token, result, ctx.clock);
      print_reported(c, TaskStatus::succeeded, std::nullopt);
      return 0;
    }
    case Verb::fail: {
      if (c.error.empty()) throw Error(ExitCode::usage, "--error: must not be empty");
      oos::queue::Failure failure{c.permanent ? policy::FailureKind::permanent : policy::FailureKind::retryable,
                                  oos::queue::cut_external_error(c.error), std::nullopt};
      auto outcome = oos::queue::fail_external(store, c.id, c.token, failure, ctx.clock);
      print_reported(c, outcome.status,
                     outcome.status == TaskStatus::pending ? std::optional(outcome.retry_at) : std::nullopt);
      return 0;
    }
    case Verb::renew: {
      auto lease = oos::queue::renew_external(store, c.id, c.token, lease_option(c), ctx.clock);
      if (c.json)
        std::cout << dump(lease_document(lease)) << '\n';
      else
        std::cout << fmt::format("task {}: lease renewed until {}\n", c.id, util::format_iso8601(lease.expires_at));
      return 0;
    }
    default: throw Error(ExitCode::software, "run_external: not a verb of external workers");
  }
}

}  // namespace oos::tools::queue
