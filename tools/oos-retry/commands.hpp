// The verbs of oos-retry, each a thin call into liboos plus printing.
#pragma once

#include "app/context.hpp"
#include "cli.hpp"
#include "db/database.hpp"

namespace oos::tools::retry {

// Runs `command` against `db`; returns the exit code. Failures are thrown as oos::Error.
int run(const Command& command, app::Context& context, db::Database& db);

}  // namespace oos::tools::retry
