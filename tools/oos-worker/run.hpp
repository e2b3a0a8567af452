// oos-worker's body: builds the Worker from the config and the command line and runs it until it is done.
#pragma once

#include <csignal>

#include "app/context.hpp"
#include "cli.hpp"

namespace oos::tools::worker {

// `stop` and `release_memory` are set by the signal handlers (SIGTERM/SIGINT, SIGUSR1); see RunnerOptions.
int run(const Command& command, app::Context& context, db::Database& db, const volatile std::sig_atomic_t& stop,
        volatile std::sig_atomic_t& release_memory);

}  // namespace oos::tools::worker
