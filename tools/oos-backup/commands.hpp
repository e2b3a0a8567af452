// The verbs of oos-backup, each a thin call into liboos's backup module plus printing.
#pragma once

#include "app/context.hpp"
#include "cli.hpp"
#include "db/database.hpp"

namespace oos::tools::backup {

// Runs `command`; returns the exit code. Failures are thrown as oos::Error.
int run(const Command& command, app::Context& context, db::Database& db);

// `oos-backup list`: reads only the backup directory, never the state directory or the database (which
// may be the very thing lost).
int list(const Command& command, app::Context& context);

}  // namespace oos::tools::backup
