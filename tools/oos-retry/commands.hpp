// The verbs of oos-retry, each a thin call into liboos plus printing.
#pragma once

#include "app/context.hpp"
#include "cli.hpp"
#include "store/backend.hpp"

namespace oos::tools::retry {

// Runs `command` against the tasks of `backend` (SQLite or PostgreSQL); returns the exit code. Failures are
// thrown as oos::Error.
int run(const Command& command, app::Context& context, store::Backend& backend);

}  // namespace oos::tools::retry
