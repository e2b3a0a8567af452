#include "pg/module.hpp"

#include <type_traits>

#include "pg/pg_backend.hpp"

static_assert(std::is_same_v<decltype(&oos_pg_module_version), oos::pg::ModuleVersionFunction>);
static_assert(std::is_same_v<decltype(&oos_pg_open_backend), oos::pg::OpenBackendFunction>);

extern "C" {

const char* oos_pg_module_version() {
  return OOS_VERSION;
}

oos::store::Backend* oos_pg_open_backend(const std::string& url, const std::optional<std::string>& password,
                                         const oos::config::Config& config, const oos::util::Clock& clock,
                                         oos::log::Logger& logger) {
  return new oos::pg::PgBackend(url, password, config, clock, logger);
}
}
