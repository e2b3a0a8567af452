// oos-scale's one job, scale::run (libcommon/scale/run.hpp): the tool connects to systemd's manager over
// D-Bus (scale.manager = "systemd"), runs it as a job (oos_scale.prom), and prints the decision with its
// reasons, the actions and the recommendations.
#pragma once

#include "app/context.hpp"
#include "cli.hpp"
#include "store/backend.hpp"

namespace oos::tools::scale {

// Returns 0; failures are thrown as oos::Error (69 when systemd cannot be reached).
int run(const Command& command, app::Context& context, store::Backend& backend);

}  // namespace oos::tools::scale
