// Loading the PostgreSQL module (pg/module.hpp), through which a tool opens a shared database: dlopen'ed only when a
// URL is set, so that a tool on SQLite starts without libpq.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "config.hpp"
#include "log.hpp"
#include "store/backend.hpp"
#include "util/time.hpp"

namespace oos::store {

// Where the executable at `executable` looks for the module: pg::k_module_dir relative to the executable's
// directory, normalised (PREFIX/bin/oos-queue -> PREFIX/lib/oos/liboos-pg.so).
std::filesystem::path pg_module_path(const std::filesystem::path& executable);

// pg_module_path() of this process's executable (/proc/self/exe, symlinks resolved).
std::filesystem::path installed_pg_module_path();

// Loads the module at `path` (never unloaded: the backend's code and what it throws live there) and opens `url`
// through it. Throws oos::Error 69 naming `path` and what to do when it cannot be loaded or was built as another
// version; else what pg::PgBackend's constructor throws.
std::unique_ptr<Backend> open_pg_module(const std::filesystem::path& path, const std::string& url,
                                        const std::optional<std::string>& password, const config::Config& config,
                                        const util::Clock& clock, log::Logger& logger);

}  // namespace oos::store
