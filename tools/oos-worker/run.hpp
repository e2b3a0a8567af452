// oos-worker's body: builds the Worker from the config and the command line and runs it until it is done.
#pragma once

#include <csignal>

#include "app/context.hpp"
#include "cli.hpp"
#include "store/backend.hpp"

namespace oos::tools::worker {

// `stop`, `release_memory` and `reload` are set by the signal handlers (SIGTERM/SIGINT, SIGUSR1, SIGHUP); see
// RunnerOptions. A reload reads the file the worker started with (--config, $OOS_CONFIG, /etc/oos/oos.toml). The
// built-in `search` type and the metrics files run on both backends (through store::Backend).
int run(const Command& command, app::Context& context, store::Backend& backend, const volatile std::sig_atomic_t& stop,
        volatile std::sig_atomic_t& release_memory, volatile std::sig_atomic_t& reload);

}  // namespace oos::tools::worker
