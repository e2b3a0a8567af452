// The breaker store on PostgreSQL: the `breakers` table of pg/schema, shared by the workers of every host, with
// the semantics of SqliteBreakerStore. Where SQLite's single writer serialises a read and the write that follows,
// a change here holds the breaker's advisory lock (lock()) from its read to its commit, so that two hosts
// counting failures of one queue at once count both, and one cooled-down breaker admits one probe.
#pragma once

#include "breaker/breaker_store.hpp"
#include "log.hpp"
#include "pg/connection.hpp"

// A breaker's state as read_record() reads it, from the `breakers` row aliased b.
#define OOS_PG_BREAKER_COLUMNS "b.state, b.consecutive_failures, coalesce(b.opened_at, 0), b.cooldown_ms"

namespace oos::pg {

class PgBreakerStore final : public breaker::BreakerStore {
 public:
  PgBreakerStore(Connection& connection, const config::BreakerSettings& settings, log::Logger& logger)
      : m_connection(connection), m_settings(settings), m_logger(logger) {}

  policy::BreakerRecord load(std::string_view kind, std::string_view name) override;
  std::vector<breaker::NamedBreaker> load_not_closed(std::string_view kind) override;
  void save(std::string_view kind, std::string_view name, const policy::BreakerRecord& before,
            const policy::BreakerRecord& next, util::UnixMillis now) override;
  void record_success(std::string_view kind, std::string_view name, util::UnixMillis now) override;
  // record_success() of a breaker the caller read in its own statement (`seen`, OOS_PG_BREAKER_COLUMNS): a success
  // that leaves it as it was costs no statement.
  void record_success(std::string_view kind, std::string_view name, util::UnixMillis now,
                      const policy::BreakerRecord& seen);
  // Whether a success changes the breaker `seen` (record_success() then writes it, under its lock: in a
  // transaction).
  bool success_changes(const policy::BreakerRecord& seen) const;
  // The breaker in the 4 columns of OOS_PG_BREAKER_COLUMNS from `first_column` of `row`; a closed breaker when they
  // are NULL (no row: the breaker never tripped).
  policy::BreakerRecord read_record(const Result& r, int row, int first_column) const;
  void record_failure(std::string_view kind, std::string_view name, util::UnixMillis now) override;
  void record_neutral(std::string_view kind, std::string_view name, util::UnixMillis now) override;
  std::optional<util::UnixMillis> changed_at(std::string_view kind, std::string_view name) override;
  void touch(std::string_view kind, std::string_view name, util::UnixMillis now) override;
  policy::BreakerRecord reset(std::string_view kind, std::string_view name, util::UnixMillis now) override;
  const config::BreakerSettings& settings() const override { return m_settings; }

  // Takes the breaker's transaction-scoped advisory lock (held to the caller's commit or rollback), waiting for
  // it, or with Wait::no returning false at once when another transaction holds it. The lock exists whether or
  // not the breaker has a row, so it also serialises the first failures of a never-tripped breaker.
  enum class Wait { yes, no };
  bool lock(std::string_view kind, std::string_view name, Wait wait = Wait::yes);

 private:
  // Saves `transition` of the breaker as read under its lock.
  template <typename Transition>
  void apply(std::string_view kind, std::string_view name, util::UnixMillis now, Transition transition);

  Connection& m_connection;
  const config::BreakerSettings& m_settings;
  log::Logger& m_logger;
};

}  // namespace oos::pg
