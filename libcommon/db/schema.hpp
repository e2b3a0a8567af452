// The versioned schema of oos.db: forward-only migrations, one per version.
#pragma once

#include <span>

namespace oos::db {

struct Migration {
  int version;      // PRAGMA user_version after this migration
  const char* sql;  // statements run inside the migration's transaction
};

// All migrations in order; the last one's version is the schema this build writes.
std::span<const Migration> migrations();

int latest_schema_version();

}  // namespace oos::db
