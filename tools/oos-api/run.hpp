// oos-api's run: the socket, the server over the routes, until SIGTERM or SIGINT.
#pragma once

#include "app/context.hpp"
#include "cli.hpp"
#include "store/backend.hpp"

namespace oos::tools::api {

// Blocks SIGTERM and SIGINT in this thread and every thread it starts later: run() waits for them.
void block_stop_signals();

// Listens (--listen, else the socket systemd passed, else 127.0.0.1:8765), prints "listening on ADDR:PORT" on
// stdout, tells systemd READY=1, serves until SIGTERM or SIGINT, or, on a socket systemd passed, until
// api.idle_exit has passed without a connection; returns 0. The routes use `backend` (SQLite or PostgreSQL).
int run(const Command& command, app::Context& context, store::Backend& backend);

}  // namespace oos::tools::api
