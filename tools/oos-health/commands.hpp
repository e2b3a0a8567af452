// oos-health's two commands.
// - check (the default): observes (health/observe), judges (policy/health) and prints the verdict: the
//   summary line "OOS <STATE> - ..." first, then one line per check; --json the same as one document. Exit
//   0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, including when the config cannot be read. It never creates or
//   writes the database; with metrics.textfile_dir set it writes oos_health.prom.
// - validate: health/validate, printed the same way; exit 0, or 78/74/2 (see health::Validation).
#pragma once

#include "cli.hpp"

namespace oos::tools::health {

int run(const Command& command);

}  // namespace oos::tools::health
