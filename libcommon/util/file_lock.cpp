#include "util/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace oos::util {

std::expected<FileLock, std::string> FileLock::acquire(const std::filesystem::path& path) {
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) return std::unexpected("lock file '" + path.string() + "': " + std::strerror(errno));
  while (::flock(fd.get(), LOCK_EX) != 0)
    if (errno != EINTR) return std::unexpected("lock file '" + path.string() + "': " + std::strerror(errno));
  return FileLock(std::move(fd));
}

}  // namespace oos::util
