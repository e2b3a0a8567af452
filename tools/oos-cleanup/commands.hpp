// oos-cleanup's one job, cleanup::run (libcommon/cleanup/run.hpp), run as a job (oos_cleanup.prom, the
// cleanup.failed event) unless a dry run, and its report printed as one line or JSON.
#pragma once

#include "app/context.hpp"
#include "cli.hpp"
#include "store/backend.hpp"

namespace oos::tools::cleanup {

// Returns 0, or 1 when a file could not be deleted; other failures are thrown as oos::Error.
int run(const Command& command, app::Context& context, store::Backend& backend);

}  // namespace oos::tools::cleanup
