#include "pg/task_sql.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <string_view>

#include "pg/pg_breaker_store.hpp"

namespace oos::pg::sql {
namespace {

// The parameters of the claim's CTEs, as "$N".
struct ClaimParams {
  const char* now;
  const char* queues;
  const char* worker;
  const char* token;
  const char* lease_ms;
};

enum class Breakers { admitted, checked };

// The CTEs `next` (the task to claim) and `claimed` (it, leased; OOS_PG_TASK_COLUMNS), preceded with
// Breakers::checked by `tripped`: the breakers of the queues that are not closed, each with `probe_due`, which is
// policy::admit()'s Admission::probe (open, its cooldown over). A queue whose breaker is tripped is not claimed from:
// every such breaker denies unless a probe is due, and in the presence of one that is due nothing is claimed (the
// caller decides the probe under the breaker's lock). The lease lengths are in the order of the queues.
std::string claim_ctes(const ClaimParams& p, Breakers breakers) {
  const bool checked = breakers == Breakers::checked;
  return fmt::format(
      "{tripped}next AS (SELECT head.id AS next_id FROM (SELECT name FROM unnest({queues}::text[]) AS u (name) "
      "WHERE NOT coalesce((SELECT paused FROM queues WHERE queues.name = u.name), false){admitted}) AS q "
      "CROSS JOIN LATERAL (SELECT id, priority, run_at FROM tasks WHERE status = 'pending' AND queue = q.name AND "
      "run_at <= {now}::bigint ORDER BY priority DESC, run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) AS head "
      "ORDER BY head.priority DESC, head.run_at, head.id LIMIT 1), "
      "claimed AS (UPDATE tasks SET status = 'running', attempts = tasks.attempts + 1, lease_owner = {worker}, "
      "lease_token = {token}, lease_expires_at = {now}::bigint + (SELECT l.ms FROM unnest({queues}::text[], "
      "{lease_ms}::bigint[]) AS l (queue, ms) WHERE l.queue = tasks.queue LIMIT 1), started_at = {now}::bigint, "
      "updated_at = {now}::bigint FROM next WHERE tasks.id = next.next_id RETURNING " OOS_PG_TASK_COLUMNS ") ",
      fmt::arg("tripped",
               checked
                   ? fmt::format("tripped AS (SELECT name, state = 'open' AND {}::bigint >= coalesce(opened_at, "
                                 "0) + cooldown_ms AS probe_due FROM breakers WHERE kind = '" OOS_PG_QUEUE_BREAKER_KIND
                                 "' AND state <> 'closed' AND name = ANY({}::text[])), ",
                                 p.now, p.queues)
                   : std::string()),
      fmt::arg("admitted", checked ? " AND NOT EXISTS (SELECT 1 FROM tripped WHERE tripped.name = u.name OR "
                                     "tripped.probe_due)"
                                   : ""),
      fmt::arg("queues", p.queues), fmt::arg("now", p.now), fmt::arg("worker", p.worker), fmt::arg("token", p.token),
      fmt::arg("lease_ms", p.lease_ms));
}

constexpr ClaimParams k_claim_params{"$1", "$2", "$3", "$4", "$5"};

// The number of the queues' breakers that are due a probe (Breakers::checked): when it is not 0, nothing was claimed.
#define OOS_PG_PROBES_DUE "(SELECT count(*) FROM tripped WHERE probe_due)"

}  // namespace

const std::string& claim() {
  static const std::string sql =
      "WITH " + claim_ctes(k_claim_params, Breakers::admitted) + "SELECT " OOS_PG_TASK_COLUMNS " FROM claimed";
  return sql;
}

const std::string& claim_unless_breaker() {
  static const std::string sql = "WITH " + claim_ctes(k_claim_params, Breakers::checked) +
                                 "SELECT " OOS_PG_PROBES_DUE
                                 ", claimed.* FROM (SELECT 1) AS one "
                                 "LEFT JOIN claimed ON true";
  return sql;
}

const std::string& complete_and_claim() {
  static const std::string sql = "WITH " OOS_PG_COMPLETED ", " OOS_PG_RECORD_RUN ", " +
                                 claim_ctes({"$1", "$9", "$10", "$11", "$12"}, Breakers::checked) +
                                 "SELECT done.*, " OOS_PG_BREAKER_COLUMNS ", " OOS_PG_PROBES_DUE
                                 ", claimed.* FROM (SELECT 1) AS one LEFT JOIN done "
                                 "ON true " OOS_PG_BREAKER_OF_DONE " LEFT JOIN claimed ON true";
  return sql;
}

namespace {

// The typed columns of OOS_PG_TASK_COLUMNS, OOS_PG_RUNNING_COLUMNS and OOS_PG_BREAKER_COLUMNS, in order: the result
// columns of the functions below, each name given a prefix (a function's result columns are variables in its body,
// and a prefix keeps them apart from the tables' columns).
constexpr std::string_view k_task_types =
    "id bigint, queue text, type text, payload text, status text, priority integer, run_at bigint, attempts integer, "
    "max_attempts integer, unique_key text, lease_owner text, lease_expires_at bigint, last_error text, result text, "
    "replays integer, created_at bigint, updated_at bigint, finished_at bigint";
constexpr std::string_view k_running_types =
    "id bigint, queue text, attempts integer, max_attempts integer, started_at bigint, lease_owner text, "
    "replays integer, runs integer";
constexpr std::string_view k_breaker_types =
    "state text, consecutive_failures integer, opened_at bigint, cooldown_ms bigint";
// claim()'s $2-$5 after its now ($1); complete_and_claim()'s $1-$8, which claim()'s $2-$5 follow.
constexpr std::string_view k_claim_arguments_after_now = "text[], text, text, bigint[]";
constexpr std::string_view k_complete_arguments = "bigint, text, integer, text, bigint, text, bigint, text";

std::string prefixed(std::string_view prefix, std::string_view columns) {
  std::string out;
  for (std::size_t start = 0; start <= columns.size();) {
    auto end = columns.find(", ", start);
    if (end == std::string_view::npos) end = columns.size();
    if (!out.empty()) out += ", ";
    out += prefix;
    out += columns.substr(start, end - start);
    start = end + 2;
  }
  return out;
}

// A statement above as a function: its name, argument types ($1, $2, ... in the statement), result columns.
struct Function {
  const char* name;
  std::string arguments;
  std::string columns;
  const std::string& (*statement)();
};

const std::array<Function, 3>& functions() {
  static const std::array<Function, 3> all = [] {
    const std::string claim_arguments = fmt::format("bigint, {}", k_claim_arguments_after_now);
    const std::string task_columns = prefixed("task_", k_task_types);
    return std::array<Function, 3>{{
        {"oos_claim", claim_arguments, task_columns, claim},
        {"oos_claim_unless_breaker", claim_arguments, "probes_due bigint, " + task_columns, claim_unless_breaker},
        {"oos_complete_and_claim", fmt::format("{}, {}", k_complete_arguments, k_claim_arguments_after_now),
         fmt::format("{}, {}, probes_due bigint, {}", prefixed("done_", k_running_types),
                     prefixed("breaker_", k_breaker_types), task_columns),
         complete_and_claim},
    }};
  }();
  return all;
}

std::string call(const Function& f) {
  const auto arguments = std::count(f.arguments.begin(), f.arguments.end(), ',') + 1;
  std::string sql = fmt::format("SELECT * FROM {}($1", f.name);
  for (long i = 2; i <= arguments; ++i) sql += fmt::format(", ${}", i);
  return sql + ")";
}

}  // namespace

const std::string& call_claim() {
  static const std::string sql = call(functions()[0]);
  return sql;
}

const std::string& call_claim_unless_breaker() {
  static const std::string sql = call(functions()[1]);
  return sql;
}

const std::string& call_complete_and_claim() {
  static const std::string sql = call(functions()[2]);
  return sql;
}

// Each function runs its statement's generic plan (plan_cache_mode): PL/pgSQL would otherwise let the server plan
// it anew on most calls (a custom plan for the values at hand), which is the cost the functions exist to save. The
// claim's plan does not depend on the values (an index walk per queue); the tests EXPLAIN the generic plan. A
// function's result columns are variables in its body: `use_column` reads a name both could mean as the column.
// The body holds no ";\n" (pg/schema.cpp cuts a migration into statements there).
std::string define_functions() {
  std::string sql;
  for (const Function& f : functions()) {
    sql += fmt::format("DROP FUNCTION IF EXISTS {};\n", f.name);
    sql += fmt::format(
        "CREATE FUNCTION {}({}) RETURNS TABLE ({}) LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan "
        "AS $oos$ #variable_conflict use_column\nBEGIN RETURN QUERY {}; END $oos$;\n",
        f.name, f.arguments, f.columns, f.statement());
  }
  return sql;
}

}  // namespace oos::pg::sql
