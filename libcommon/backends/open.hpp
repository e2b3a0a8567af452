// Opening the state database a tool's context names: a shared PostgreSQL when a URL is set
// (store/database_url.hpp), else SQLite in the state directory. Above both backends: PostgreSQL through its module
// (backends/pg_module.hpp), loaded only then; libpq is never linked into a tool.
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "app/context.hpp"
#include "store/backend.hpp"

namespace oos::store {

// PostgreSQL when $OOS_DATABASE_URL or db.url is set (password from the secret OOS_DATABASE_PASSWORD; the schema
// migrated under its advisory lock), else app::open_database(). Throws oos::Error: 78 for a bad URL, 69 when the
// server cannot be reached, 69 when its schema is newer than this build, 69 naming the module's path when it is
// missing (an unset URL never looks for it).
std::unique_ptr<Backend> open_backend(const app::Context& context, db::Access access = db::Access::read_write);

// What the main of a tool that works on both backends does after parsing its command line: run_main() around
// make_context(), open_backend() and `command(context, backend)`.
int run_with_backend(std::string_view tool, const app::CommonOptions& options, db::Access access,
                     const std::function<int(app::Context&, Backend&)>& command);

}  // namespace oos::store
