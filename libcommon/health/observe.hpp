// What oos-health looks at, read into policy::HealthInput: the database (without creating it), its
// integrity and recovery events, the backups on disk, the disks, the queues, the workers' heartbeats and
// the search providers' breakers. Reads only: a health check changes nothing.
#pragma once

#include <filesystem>

#include "config.hpp"
#include "log.hpp"
#include "policy/health.hpp"
#include "util/time.hpp"

namespace oos::health {

struct Sources {
  const config::Config& config;
  std::filesystem::path state_dir;
  std::filesystem::path backup_dir;
  util::UnixMillis now = 0;
};

// Never throws for what it finds: a database that is missing, corrupt, busy or unreadable becomes
// `database_problem` (CRITICAL when missing or corrupt, UNKNOWN when it could not be read).
policy::HealthInput observe(const Sources& sources, log::Logger& logger);

}  // namespace oos::health
