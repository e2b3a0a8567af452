// What oos-health looks at, read into policy::HealthInput: the database (without creating it), its
// integrity and recovery events, the backups on disk, the disks, the queues, the workers' heartbeats, the
// search providers' breakers and the key rings the handlers name (by fingerprint). Reads only: a health check
// changes nothing.
#pragma once

#include <filesystem>
#include <string>

#include "config.hpp"
#include "error.hpp"
#include "log.hpp"
#include "policy/health.hpp"
#include "store/backend.hpp"
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

// On PostgreSQL (docs/reference.md section 16): the disks (once the state directory exists), the server
// (store::Backend::read_server with `clock`) and the queues, workers, search providers and key rings through
// `backend`'s stores;
// no backups or integrity events, which are the server's business (on_postgresql set). Messages name the database
// as backend.describe() does. An oos::Error while reading becomes `database_problem` (CRITICAL for 69, the server
// gone; UNKNOWN otherwise), with the disks still judged.
policy::HealthInput observe_shared(const Sources& sources, store::Backend& backend, const util::Clock& clock);

// On PostgreSQL when the backend could not be opened: `problem` (which names the server, never the URL's secrets)
// as the database check with `status`, and the disks.
policy::HealthInput unreachable(const Sources& sources, const std::string& problem, policy::Health status);

// The status of the database check when the shared database fails with `code`: CRITICAL when it cannot be reached
// (75: no answer, restarting) or refuses this host (69): the queue is out of reach; UNKNOWN for anything else (a
// bad URL is 78, a bug 70).
policy::Health database_failure_status(ExitCode code);

}  // namespace oos::health
