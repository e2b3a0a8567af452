// oos-integrity's verbs: check (with VACUUM when fragmented and recovery when corrupt) and vacuum.
#pragma once

#include "app/context.hpp"
#include "cli.hpp"

namespace oos::tools::integrity {

// Opens the database itself (opening is what fails on a file that is not a database). Returns 0 healthy,
// 1 corrupt and recovered, 2 corrupt and not recovered; other failures are thrown as oos::Error.
int run(const Command& command, app::Context& context);

}  // namespace oos::tools::integrity
