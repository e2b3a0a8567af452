#include "backends/pg_module.hpp"

#include "error.hpp"
#include "pg/module.hpp"
#include "util/shared_library.hpp"

namespace oos::store {
namespace {

// The one-line refusal when the module cannot be used; `cause` says why.
Error unavailable(const std::string& cause) {
  return Error(ExitCode::unavailable,
               "PostgreSQL support is not installed: " + cause + "; install " + pg::k_module_file +
                   " with the tools (make install puts it in lib/oos beside their bin directory), or unset db.url "
                   "and OOS_DATABASE_URL to use SQLite");
}

}  // namespace

std::filesystem::path pg_module_path(const std::filesystem::path& executable) {
  return (executable.parent_path() / pg::k_module_dir / pg::k_module_file).lexically_normal();
}

std::filesystem::path installed_pg_module_path() {
  std::error_code error;
  auto executable = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) throw unavailable("cannot find this executable (/proc/self/exe): " + error.message());
  return pg_module_path(executable);
}

std::unique_ptr<Backend> open_pg_module(const std::filesystem::path& path, const std::string& url,
                                        const std::optional<std::string>& password, const config::Config& config,
                                        const util::Clock& clock, log::Logger& logger) {
  auto library = util::SharedLibrary::open(path.string(), util::SharedLibrary::Unload::never);
  if (!library) throw unavailable(library.error());
  auto version = library->function<pg::ModuleVersionFunction>(pg::k_version_symbol);
  auto open = library->function<pg::OpenBackendFunction>(pg::k_open_symbol);
  if (!version || !open) throw unavailable(path.string() + " is not the OOS PostgreSQL module");
  if (std::string(version()) != OOS_VERSION)
    throw unavailable(path.string() + " is version " + version() + ", this tool " + OOS_VERSION);
  return std::unique_ptr<Backend>(open(url, password, config, clock, logger));
}

}  // namespace oos::store
