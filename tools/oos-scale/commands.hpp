// oos-scale's one job: record a sample (load, memory, PSI, runnable tasks), decide the number of workers
// (policy/scaling), start or stop oos-worker@N instances through systemd's D-Bus API (scale.manager =
// "systemd", not with --dry-run), tell the workers to release memory under pressure, and print the decision
// with its reasons, the actions and recommendations.
#pragma once

#include "app/context.hpp"
#include "cli.hpp"
#include "db/database.hpp"

namespace oos::tools::scale {

// Returns 0; failures are thrown as oos::Error (69 when systemd cannot be reached).
int run(const Command& command, app::Context& context, db::Database& db);

}  // namespace oos::tools::scale
