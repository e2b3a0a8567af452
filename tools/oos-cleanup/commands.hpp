// oos-cleanup's one job: measure the disks, apply the cleanup rules when they are full (or forced), apply
// task retention, and log every action as a JSON line.
#pragma once

#include "app/context.hpp"
#include "cli.hpp"
#include "db/database.hpp"

namespace oos::tools::cleanup {

// Returns 0, or 1 when a file could not be deleted; other failures are thrown as oos::Error.
int run(const Command& command, app::Context& context, db::Database& db);

}  // namespace oos::tools::cleanup
