// The breaker store on SQLite: the `breakers` table of the state directory's oos.db.
#pragma once

#include "breaker/breaker_store.hpp"
#include "db/database.hpp"
#include "log.hpp"

namespace oos::breaker {

class SqliteBreakerStore final : public BreakerStore {
 public:
  SqliteBreakerStore(db::Database& db, const config::BreakerSettings& settings, log::Logger& logger)
      : m_db(db), m_settings(settings), m_logger(logger) {}

  policy::BreakerRecord load(std::string_view kind, std::string_view name) override;
  std::vector<NamedBreaker> load_not_closed(std::string_view kind) override;
  void save(std::string_view kind, std::string_view name, const policy::BreakerRecord& before,
            const policy::BreakerRecord& next, util::UnixMillis now) override;
  void record_success(std::string_view kind, std::string_view name, util::UnixMillis now) override;
  void record_failure(std::string_view kind, std::string_view name, util::UnixMillis now) override;
  void record_neutral(std::string_view kind, std::string_view name, util::UnixMillis now) override;
  std::optional<util::UnixMillis> changed_at(std::string_view kind, std::string_view name) override;
  void touch(std::string_view kind, std::string_view name, util::UnixMillis now) override;
  policy::BreakerRecord reset(std::string_view kind, std::string_view name, util::UnixMillis now) override;
  const config::BreakerSettings& settings() const override { return m_settings; }

 private:
  db::Database& m_db;
  const config::BreakerSettings& m_settings;
  log::Logger& m_logger;
};

}  // namespace oos::breaker
