// The OOS schema on PostgreSQL (docs/reference.md section 19): forward-only migrations, applied by the first
// host that starts after an upgrade. Table names are unqualified: the connection's search_path picks the schema.
#pragma once

#include "pg/connection.hpp"

namespace oos::pg {

// The schema version this build writes and reads.
int latest_schema_version();

// Applies the migrations the database lacks, all in one transaction under an advisory lock, so that hosts
// starting together migrate once and the others wait, then find nothing to do. Throws oos::Error 69 when the
// database's version is newer than this build (a newer OOS on another host migrated it: upgrade this one).
void migrate(Connection& connection);

// migrate() up to version `target` only (a version the tests start from, to check what the later ones do).
void migrate_to(Connection& connection, int target);

// The database's schema version: 0 when OOS never migrated it.
int schema_version(Connection& connection);

}  // namespace oos::pg
