#include "pg/events.hpp"

#include <string>

#include "pg/values.hpp"

namespace oos::pg {

void record_event(Connection& connection, util::UnixMillis at, std::string_view kind, std::string_view object,
                  std::string_view detail) {
  connection.exec_params("INSERT INTO events (at, kind, object, detail) VALUES ($1, $2, $3, $4)",
                         {param(at), std::string(kind), std::string(object), std::string(detail)});
}

std::int64_t count_events(Connection& connection, std::string_view kind) {
  return int_at(connection.exec_params("SELECT count(*) FROM events WHERE kind = $1", {std::string(kind)}), 0, 0);
}

std::int64_t count_events(Connection& connection, std::string_view kind, std::string_view object) {
  return int_at(connection.exec_params("SELECT count(*) FROM events WHERE kind = $1 AND object = $2",
                                       {std::string(kind), std::string(object)}),
                0, 0);
}

std::optional<util::UnixMillis> last_event_at(Connection& connection, std::string_view kind,
                                              std::optional<std::string_view> object) {
  return opt_int_at(
      connection.exec_params("SELECT max(at) FROM events WHERE kind = $1 AND ($2::text IS NULL OR object = $2)",
                             {std::string(kind), object ? Param(std::string(*object)) : Param(std::nullopt)}),
      0, 0);
}

}  // namespace oos::pg
