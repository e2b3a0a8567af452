// What oos-health reads of a PostgreSQL server (docs/reference.md section 16): connections in use, the oldest open
// transaction, and the server's clock against this host's. Reads only.
#pragma once

#include "config.hpp"
#include "pg/connection.hpp"
#include "policy/health.hpp"
#include "util/time.hpp"

namespace oos::pg {

// Reads pg_stat_activity (a role without pg_monitor sees only its own connections' transactions) and the server's
// clock_timestamp(), compared with `clock`'s wall time around the query. Throws oos::Error like exec_params().
policy::PostgresHealth observe_server(Connection& connection, const config::DbSettings& settings,
                                      const util::Clock& clock);

}  // namespace oos::pg
