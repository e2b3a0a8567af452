#include "pg/server_health.hpp"

#include <fmt/format.h>

#include <string>

namespace oos::pg {
namespace {

std::int64_t integer(const Result& r, int row, int column) {
  return std::stoll(std::string(r.text(row, column)));
}

}  // namespace

policy::PostgresHealth observe_server(Connection& connection, const config::DbSettings& settings,
                                      const util::Clock& clock) {
  policy::PostgresHealth pg;
  pg.transaction_warning = settings.transaction_warning;
  pg.clock_skew_warning = settings.clock_skew_warning;

  const Result connections = connection.exec_params(
      "SELECT count(*) FILTER (WHERE backend_type = 'client backend'), current_setting('max_connections')::bigint "
      "FROM pg_stat_activity");
  pg.connections = integer(connections, 0, 0);
  pg.max_connections = integer(connections, 0, 1);

  // Another connection's transaction: this one's own (none is open here) would only measure the query.
  const Result oldest = connection.exec_params(
      "SELECT pid, coalesce(application_name, ''), coalesce(state, ''), "
      "(extract(epoch FROM clock_timestamp() - xact_start) * 1000)::bigint FROM pg_stat_activity "
      "WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid() ORDER BY xact_start LIMIT 1");
  if (oldest.rows() > 0) {
    pg.oldest_transaction = util::Millis(integer(oldest, 0, 3));
    auto application = std::string(oldest.text(0, 1));
    pg.oldest_transaction_holder = fmt::format("pid {} ({}{})", oldest.text(0, 0),
                                               application.empty() ? "" : application + ", ", oldest.text(0, 2));
  }

  // The server's clock against the middle of the round trip, so that the network's delay is not counted as skew.
  auto before = clock.now();
  const Result now = connection.exec_params("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint");
  auto after = clock.now();
  pg.clock_skew = util::Millis(integer(now, 0, 0) - (before + after) / 2);
  return pg;
}

}  // namespace oos::pg
