#include "backends/open.hpp"

#include <cstdlib>

#include "backends/pg_module.hpp"
#include "secrets.hpp"
#include "store/database_url.hpp"
#include "store/sqlite_backend.hpp"

namespace oos::store {

std::unique_ptr<Backend> open_backend(const app::Context& context, db::Access access) {
  if (auto url = resolve_database_url(context.config.db.url, std::getenv("OOS_DATABASE_URL"))) {
    auto password = secrets::SecretStore::from_environment().get(k_database_password_secret);
    return open_pg_module(installed_pg_module_path(), *url, password, context.config, context.clock, *context.logger);
  }
  return std::make_unique<SqliteBackend>(app::open_database(context, access), context.config, context.clock,
                                         *context.logger);
}

int run_with_backend(std::string_view tool, const app::CommonOptions& options, db::Access access,
                     const std::function<int(app::Context&, Backend&)>& command) {
  return app::run_main(tool, [&](app::RunState& state) {
    auto context = app::make_context(std::string(tool), options);
    state.db_path = context.db_path();
    auto backend = open_backend(context, access);
    return command(context, *backend);
  });
}

}  // namespace oos::store
