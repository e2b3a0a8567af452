// The queue store on SQLite: flags in `queues`, counts kept by the schema's triggers in `queue_counts`, run
// counters in `queue_counters`.
#pragma once

#include "breaker/sqlite_breaker_store.hpp"
#include "db/database.hpp"
#include "log.hpp"
#include "queue/queue_store.hpp"

namespace oos::queue {

// The pending tasks of `queues` (each counted once) runnable at `now`: per queue, the pending count the schema's
// triggers keep less the delayed tasks (the pending index's range after now), so no runnable task is walked. What
// status shows as runnable and what oos-scale and oos-health sample (TaskStore::runnable_count).
std::int64_t runnable_tasks(db::Database& db, std::span<const std::string> queues, util::UnixMillis now);

class SqliteQueueStore final : public QueueStore {
 public:
  SqliteQueueStore(db::Database& db, const config::Config& config, log::Logger& logger)
      : m_db(db), m_config(config), m_logger(logger), m_breakers(db, config.breaker, logger) {}

  bool set_paused(const std::string& queue, bool paused, util::UnixMillis now) override;
  bool exists(const std::string& queue) override;
  std::vector<std::string> names() override;
  std::vector<QueueStatus> status(util::UnixMillis now) override;
  std::optional<QueueStats> stats(const std::string& queue, util::UnixMillis now) override;
  Activity activity(const std::optional<std::string>& queue, util::UnixMillis now) override;
  std::map<std::string, std::int64_t> dead_since(util::UnixMillis since) override;
  breaker::BreakerStore& breakers() override { return m_breakers; }

 private:
  QueueStatus status_of(const std::string& queue, util::UnixMillis now);

  db::Database& m_db;
  const config::Config& m_config;
  log::Logger& m_logger;
  breaker::SqliteBreakerStore m_breakers;
};

}  // namespace oos::queue
