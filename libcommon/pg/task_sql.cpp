#include "pg/task_sql.hpp"

#include <fmt/format.h>

#include "pg/pg_breaker_store.hpp"

namespace oos::pg::sql {
namespace {

// The parameters of the claim's CTEs, as "$N".
struct ClaimParams {
  const char* now;
  const char* queues;
  const char* worker;
  const char* token;
  const char* lease_queues;
  const char* lease_ms;
};

enum class Breakers { admitted, checked };

// The CTEs `next` (the task to claim) and `claimed` (it, leased; OOS_PG_TASK_COLUMNS), preceded with
// Breakers::checked by `tripped`: the breakers of the queues that are not closed, in whose presence nothing is
// claimed. The breakers are those of kind "queue" (PgTaskStore's kind).
std::string claim_ctes(const ClaimParams& p, Breakers breakers) {
  const bool checked = breakers == Breakers::checked;
  return fmt::format(
      "{tripped}next AS (SELECT head.id AS next_id FROM (SELECT name FROM unnest({queues}::text[]) AS u (name) "
      "WHERE NOT EXISTS (SELECT 1 FROM queues WHERE queues.name = u.name AND queues.paused){unless}) AS q "
      "CROSS JOIN LATERAL (SELECT id, priority, run_at FROM tasks WHERE status = 'pending' AND queue = q.name AND "
      "run_at <= {now}::bigint ORDER BY priority DESC, run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) AS head "
      "ORDER BY head.priority DESC, head.run_at, head.id LIMIT 1), "
      "claimed AS (UPDATE tasks SET status = 'running', attempts = tasks.attempts + 1, lease_owner = {worker}, "
      "lease_token = {token}, lease_expires_at = {now}::bigint + (SELECT l.ms FROM unnest({lease_queues}::text[], "
      "{lease_ms}::bigint[]) AS l (queue, ms) WHERE l.queue = tasks.queue LIMIT 1), started_at = {now}::bigint, "
      "updated_at = {now}::bigint FROM next WHERE tasks.id = next.next_id RETURNING " OOS_PG_TASK_COLUMNS ") ",
      fmt::arg("tripped", checked ? fmt::format("tripped AS (SELECT name FROM breakers WHERE kind = 'queue' AND "
                                                "state <> 'closed' AND name = ANY({}::text[])), ",
                                                p.queues)
                                  : std::string()),
      fmt::arg("unless", checked ? " AND NOT EXISTS (SELECT 1 FROM tripped)" : ""), fmt::arg("queues", p.queues),
      fmt::arg("now", p.now), fmt::arg("worker", p.worker), fmt::arg("token", p.token),
      fmt::arg("lease_queues", p.lease_queues), fmt::arg("lease_ms", p.lease_ms));
}

constexpr ClaimParams k_claim_params{"$1", "$2", "$3", "$4", "$5", "$6"};

}  // namespace

const std::string& claim() {
  static const std::string sql =
      "WITH " + claim_ctes(k_claim_params, Breakers::admitted) + "SELECT " OOS_PG_TASK_COLUMNS " FROM claimed";
  return sql;
}

const std::string& claim_unless_breaker() {
  static const std::string sql = "WITH " + claim_ctes(k_claim_params, Breakers::checked) +
                                 "SELECT (SELECT count(*) FROM tripped), claimed.* FROM (SELECT 1) AS one "
                                 "LEFT JOIN claimed ON true";
  return sql;
}

const std::string& complete_and_claim() {
  static const std::string sql =
      "WITH done AS (UPDATE tasks SET status = 'succeeded', result = $6, finished_at = $1::bigint, "
      "updated_at = $1::bigint, lease_token = NULL, lease_expires_at = NULL WHERE id = $7 AND status = 'running' "
      "AND lease_token = $8 RETURNING " OOS_PG_RUNNING_COLUMNS "), " OOS_PG_RECORD_RUN ", " +
      claim_ctes({"$1", "$9", "$10", "$11", "$12", "$13"}, Breakers::checked) +
      "SELECT done.*, " OOS_PG_BREAKER_COLUMNS
      ", "
      "(SELECT count(*) FROM tripped), claimed.* FROM (SELECT 1) AS one LEFT JOIN done ON true "
      "LEFT JOIN breakers b ON b.kind = 'queue' AND b.name = done.queue LEFT JOIN claimed ON true";
  return sql;
}

}  // namespace oos::pg::sql
