// oos-worker's body: builds the Worker from the config and the command line and runs it until it is done.
#pragma once

#include <csignal>

#include "app/context.hpp"
#include "cli.hpp"
#include "store/backend.hpp"

namespace oos::tools::worker {

// `stop` and `release_memory` are set by the signal handlers (SIGTERM/SIGINT, SIGUSR1); see RunnerOptions. The
// built-in `search` type and the metrics files run on both backends (through store::Backend).
int run(const Command& command, app::Context& context, store::Backend& backend, const volatile std::sig_atomic_t& stop,
        volatile std::sig_atomic_t& release_memory);

}  // namespace oos::tools::worker
