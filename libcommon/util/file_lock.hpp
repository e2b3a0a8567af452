// An exclusive advisory lock (flock(2)) on a file, held until the object is destroyed: serialises processes
// that must not run a step at the same time (two oos-integrity recoveries of one database).
#pragma once

#include <expected>
#include <filesystem>
#include <string>

#include "util/fd.hpp"

namespace oos::util {

class FileLock {
 public:
  // Creates `path` if needed (mode 0600) and waits until the lock is ours. The error names the file.
  [[nodiscard]] static std::expected<FileLock, std::string> acquire(const std::filesystem::path& path);
  FileLock(FileLock&&) noexcept = default;
  FileLock& operator=(FileLock&&) = delete;

 private:
  explicit FileLock(Fd fd) : m_fd(std::move(fd)) {}
  Fd m_fd;  // closing the last descriptor of the file releases the lock
};

}  // namespace oos::util
