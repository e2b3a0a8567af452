#include "util/files.hpp"

#include <sys/stat.h>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace oos::util {

std::expected<void, std::string> ensure_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return {};
  std::filesystem::create_directories(dir, ec);
  if (ec) return std::unexpected("cannot create directory '" + dir.string() + "': " + ec.message());
  ::chmod(dir.c_str(), 0750);
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

}  // namespace oos::util
