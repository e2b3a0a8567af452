// The config as a tool runs with it: what make_context() reads at start, and what oos-worker reads again on
// SIGHUP (worker/reload.hpp).
#pragma once

#include "app/context.hpp"
#include "config.hpp"

namespace oos::app {

// The config file (config::load_config: exit 78 on errors) with --log-level and $OOS_LOG_FORMAT applied; an
// invalid --log-level is a usage error (64).
config::Config read_config(const CommonOptions& options);

}  // namespace oos::app
