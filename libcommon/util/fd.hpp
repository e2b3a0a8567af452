// A file descriptor with one owner (ccache's util::Fd): closed when its owner goes, moved but never copied,
// so that no path through a function can leak it or close it twice.
#pragma once

#include <unistd.h>

#include <utility>

namespace oos::util {

class Fd {
 public:
  // No descriptor.
  Fd() noexcept = default;
  // Takes ownership of `fd`; a negative value (a failed open(2)) is no descriptor.
  explicit Fd(int fd) noexcept : m_fd(fd) {}
  Fd(Fd&& other) noexcept : m_fd(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  // The descriptor, -1 when there is none; it stays owned by this object.
  int get() const noexcept { return m_fd; }
  // Whether there is a descriptor.
  explicit operator bool() const noexcept { return m_fd >= 0; }

  // Closes the descriptor held, if any, and takes `fd` instead. close(2)'s error is ignored: a caller that
  // must know that its writes reached the disk calls fsync(2) first.
  void reset(int fd = -1) noexcept {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = fd;
  }
  // Gives the descriptor up without closing it; this object holds none afterwards.
  [[nodiscard]] int release() noexcept { return std::exchange(m_fd, -1); }

 private:
  int m_fd = -1;
};

}  // namespace oos::util
