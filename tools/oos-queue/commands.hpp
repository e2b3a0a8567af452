// The verbs of oos-queue, each a thin call into liboos plus printing.
#pragma once

#include "app/context.hpp"
#include "cli.hpp"
#include "db/database.hpp"
#include "store/backend.hpp"

namespace oos::tools::queue {

// Runs `command` against `db`; returns the exit code. Failures are thrown as oos::Error.
int run(const Command& command, app::Context& context, store::Backend& backend);

}  // namespace oos::tools::queue
