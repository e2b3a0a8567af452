// The verbs of external workers (claim, complete, fail, renew): reading their options, a call into
// queue/external and printing.
#pragma once

#include "app/context.hpp"
#include "cli.hpp"
#include "queue/task_store.hpp"

namespace oos::tools::queue {

// Runs the claim, complete, fail or renew `command`; returns the exit code. Failures are thrown as oos::Error.
int run_external(const Command& command, app::Context& context, oos::queue::TaskStore& store);

}  // namespace oos::tools::queue
