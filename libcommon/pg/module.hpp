// The PostgreSQL module (liboos-pg.so: pg/ and libpq), which backends/open loads with dlopen only when a database URL
// is set, so that a tool on SQLite never loads libpq and its two dozen libraries. Its two entry points are C symbols;
// everything else it uses of liboos and libstdc++ is the executable's (docs/decisions.md, "The PostgreSQL module").
#pragma once

#include <optional>
#include <string>

#include "config.hpp"
#include "log.hpp"
#include "store/backend.hpp"
#include "util/time.hpp"

namespace oos::pg {

// The module's file name, and where a tool looks for it: this directory, relative to the directory of the executable
// (installed: PREFIX/bin/../lib/oos; in the build tree: build/tools/lib/oos beside build/tools/<tool>/).
inline constexpr const char* k_module_file = "liboos-pg.so";
inline constexpr const char* k_module_dir = "../lib/oos";

// The entry points' names and types. The version is the OOS version the module was built as (OOS_VERSION); a tool
// refuses a module of another version, since the two share the layouts of every liboos type.
inline constexpr const char* k_version_symbol = "oos_pg_module_version";
inline constexpr const char* k_open_symbol = "oos_pg_open_backend";
using ModuleVersionFunction = const char* (*)();
using OpenBackendFunction = store::Backend* (*)(const std::string& url, const std::optional<std::string>& password,
                                                const config::Config& config, const util::Clock& clock,
                                                log::Logger& logger);

}  // namespace oos::pg

extern "C" {
// OOS_VERSION of the module's build.
const char* oos_pg_module_version();
// A new pg::PgBackend (the caller owns it), throwing oos::Error as its constructor does.
oos::store::Backend* oos_pg_open_backend(const std::string& url, const std::optional<std::string>& password,
                                         const oos::config::Config& config, const oos::util::Clock& clock,
                                         oos::log::Logger& logger);
}
