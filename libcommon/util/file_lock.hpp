// An exclusive advisory lock (flock(2)) on a file, held until the object is destroyed: serialises processes
// that must not run a step at the same time (two oos-integrity recoveries of one database).
#pragma once

#include <expected>
#include <filesystem>
#include <string>

namespace oos::util {

class FileLock {
 public:
  // Creates `path` if needed (mode 0600) and waits until the lock is ours. The error names the file.
  [[nodiscard]] static std::expected<FileLock, std::string> acquire(const std::filesystem::path& path);
  FileLock(FileLock&& other) noexcept : m_fd(other.m_fd) { other.m_fd = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : m_fd(fd) {}
  int m_fd;
};

}  // namespace oos::util
