// Circuit breakers persisted in the `breakers` table, shared by every process on the host. One store
// serves queues (kind "queue") and search providers (kind "search").
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "db/database.hpp"
#include "log.hpp"
#include "policy/breaker.hpp"

namespace oos::breaker {

struct NamedBreaker {
  std::string name;
  policy::BreakerRecord record;
};

class BreakerStore {
 public:
  BreakerStore(db::Database& db, const config::BreakerSettings& settings, log::Logger& logger)
      : m_db(db), m_settings(settings), m_logger(logger) {}

  // The breaker `kind`/`name`; a closed one when it has never tripped.
  policy::BreakerRecord load(std::string_view kind, std::string_view name);

  // Every breaker of `kind` that is not closed.
  std::vector<NamedBreaker> load_not_closed(std::string_view kind);

  // Stores `next`; a change of state is logged and recorded as an event ("breaker.open", ...).
  // Must run inside the caller's write transaction.
  void save(std::string_view kind, std::string_view name, const policy::BreakerRecord& before,
            const policy::BreakerRecord& next, util::UnixMillis now);

  // Applies a run's outcome inside the caller's transaction.
  void record_success(std::string_view kind, std::string_view name, util::UnixMillis now);
  void record_failure(std::string_view kind, std::string_view name, util::UnixMillis now);
  void record_neutral(std::string_view kind, std::string_view name, util::UnixMillis now);

  // When the breaker's row last changed (for a half-open breaker: when its probe started); nullopt when the
  // breaker never tripped.
  std::optional<util::UnixMillis> changed_at(std::string_view kind, std::string_view name);

  // Marks the row changed at `now` without changing the breaker: a probe whose process died is taken over.
  // Must run inside the caller's write transaction.
  void touch(std::string_view kind, std::string_view name, util::UnixMillis now);

  // Closes the breaker by hand, in its own transaction. Returns the state it had.
  policy::BreakerRecord reset(std::string_view kind, std::string_view name, util::UnixMillis now);

  const config::BreakerSettings& settings() const { return m_settings; }

 private:
  db::Database& m_db;
  const config::BreakerSettings& m_settings;
  log::Logger& m_logger;
};

}  // namespace oos::breaker
