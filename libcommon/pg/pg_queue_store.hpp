// The queue store on PostgreSQL: paused flags in `queues`, run counters in `queue_counters` (summed over their
// shards), with the semantics of queue::SqliteQueueStore. There is no count table (pg/schema.cpp says why): status
// counts the tasks from partial indexes, so its cost grows with the backlog and the finished tasks kept (see
// pg_queue_store.cpp). Each call runs on `connection` (one connection per thread).
#pragma once

#include "config.hpp"
#include "log.hpp"
#include "pg/connection.hpp"
#include "pg/pg_breaker_store.hpp"
#include "queue/queue_store.hpp"

namespace oos::pg {

class PgQueueStore final : public queue::QueueStore {
 public:
  PgQueueStore(Connection& connection, const config::Config& config, log::Logger& logger)
      : m_connection(connection), m_config(config), m_logger(logger), m_breakers(connection, config.breaker, logger) {}

  bool set_paused(const std::string& queue, bool paused, util::UnixMillis now) override;
  bool exists(const std::string& queue) override;
  std::vector<std::string> names() override;
  std::vector<queue::QueueStatus> status(util::UnixMillis now) override;
  std::optional<queue::QueueStats> stats(const std::string& queue, util::UnixMillis now) override;
  queue::Activity activity(const std::optional<std::string>& queue, util::UnixMillis now) override;
  std::map<std::string, std::int64_t> dead_since(util::UnixMillis since) override;
  breaker::BreakerStore& breakers() override { return m_breakers; }

 private:
  // The status of each of `names` (sorted), read in one snapshot; `only`: the one queue asked for, which narrows
  // every statement to it (nullopt: every queue).
  std::vector<queue::QueueStatus> statuses(const std::vector<std::string>& names,
                                           const std::optional<std::string>& only, util::UnixMillis now);

  Connection& m_connection;
  const config::Config& m_config;
  log::Logger& m_logger;
  PgBreakerStore m_breakers;
};

}  // namespace oos::pg
