// Circuit breakers persisted in the `breakers` table, shared by every process that uses the database. One
// store serves queues (kind "queue") and search providers (kind "search"). The interface has two
// implementations: SqliteBreakerStore (breaker/sqlite_breaker_store.hpp) and pg::PgBreakerStore (PostgreSQL).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "policy/breaker.hpp"

namespace oos::breaker {

struct NamedBreaker {
  std::string name;
  policy::BreakerRecord record;
};

class BreakerStore {
 public:
  virtual ~BreakerStore() = default;

  // The breaker `kind`/`name`; a closed one when it has never tripped.
  virtual policy::BreakerRecord load(std::string_view kind, std::string_view name) = 0;

  // Every breaker of `kind` that is not closed.
  virtual std::vector<NamedBreaker> load_not_closed(std::string_view kind) = 0;

  // Stores `next`; a change of state is logged and recorded as an event ("breaker.open", ...).
  // Must run inside the caller's write transaction.
  virtual void save(std::string_view kind, std::string_view name, const policy::BreakerRecord& before,
                    const policy::BreakerRecord& next, util::UnixMillis now) = 0;

  // Applies a run's outcome inside the caller's transaction.
  virtual void record_success(std::string_view kind, std::string_view name, util::UnixMillis now) = 0;
  virtual void record_failure(std::string_view kind, std::string_view name, util::UnixMillis now) = 0;
  virtual void record_neutral(std::string_view kind, std::string_view name, util::UnixMillis now) = 0;

  // When the breaker's row last changed (for a half-open breaker: when its probe started); nullopt when the
  // breaker never tripped.
  virtual std::optional<util::UnixMillis> changed_at(std::string_view kind, std::string_view name) = 0;

  // Marks the row changed at `now` without changing the breaker: a probe whose process died is taken over.
  // Must run inside the caller's write transaction.
  virtual void touch(std::string_view kind, std::string_view name, util::UnixMillis now) = 0;

  // Closes the breaker by hand, in its own transaction. Returns the state it had.
  virtual policy::BreakerRecord reset(std::string_view kind, std::string_view name, util::UnixMillis now) = 0;

  virtual const config::BreakerSettings& settings() const = 0;
};

}  // namespace oos::breaker
