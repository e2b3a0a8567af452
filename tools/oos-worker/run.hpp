// oos-worker's body: builds the Worker from the config and the command line and runs it until it is done.
#pragma once

#include <csignal>

#include "app/context.hpp"
#include "cli.hpp"

namespace oos::tools::worker {

int run(const Command& command, app::Context& context, db::Database& db, const volatile std::sig_atomic_t& stop);

}  // namespace oos::tools::worker
