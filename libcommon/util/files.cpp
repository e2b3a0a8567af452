#include "util/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "util/fd.hpp"

namespace oos::util {

std::expected<void, std::string> ensure_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return {};
  // One component at a time, so that every directory created here gets mode 0750 (less the umask).
  std::filesystem::path partial;
  for (const auto& part : dir) {
    partial /= part;
    if (std::filesystem::is_directory(partial, ec)) continue;
    if (::mkdir(partial.c_str(), 0750) != 0 && errno != EEXIST)
      return std::unexpected("cannot create directory '" + dir.string() + "': " + std::strerror(errno));
  }
  if (!std::filesystem::is_directory(dir, ec))
    return std::unexpected("cannot create directory '" + dir.string() + "': " + std::strerror(ENOTDIR));
  return {};
}

std::expected<std::string, std::string> read_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return std::unexpected("cannot read '" + path.string() + "': Is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected("cannot read '" + path.string() + "': " + std::strerror(errno));
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return std::unexpected("cannot read '" + path.string() + "': " + std::strerror(errno));
  return content.str();
}

std::expected<void, std::string> fsync_path(const std::filesystem::path& path, bool directory) {
  Fd fd(::open(path.c_str(), (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC));
  if (!fd || ::fsync(fd.get()) != 0)
    return std::unexpected("cannot sync '" + path.string() + "': " + std::strerror(errno));
  return {};
}

std::expected<void, std::string> create_private(const std::filesystem::path& path) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd && errno != EEXIST) return std::unexpected("cannot create '" + path.string() + "': " + std::strerror(errno));
  return {};
}

}  // namespace oos::util
