// A shared library opened at run time (dlopen), for dependencies only some runs need.
#pragma once

#include <expected>
#include <string>

namespace oos::util {

// Move-only owner of a dlopen() handle; closes it on destruction.
class SharedLibrary {
 public:
  // Opens `soname` (e.g. "libsystemd.so.0"). Error: "cannot load libsystemd.so.0: <dlerror>".
  [[nodiscard]] static std::expected<SharedLibrary, std::string> open(const std::string& soname);

  SharedLibrary(SharedLibrary&& other) noexcept : m_handle(other.m_handle) { other.m_handle = nullptr; }
  SharedLibrary& operator=(SharedLibrary&& other) noexcept;
  SharedLibrary(const SharedLibrary&) = delete;
  SharedLibrary& operator=(const SharedLibrary&) = delete;
  ~SharedLibrary();

  // The address of `symbol` as a function pointer of type F, or nullptr when absent.
  template <typename F>
  F function(const char* symbol) const {
    return reinterpret_cast<F>(lookup(symbol));
  }

 private:
  explicit SharedLibrary(void* handle) : m_handle(handle) {}
  void* lookup(const char* symbol) const;

  void* m_handle = nullptr;
};

}  // namespace oos::util
