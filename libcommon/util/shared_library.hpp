// A shared library opened at run time (dlopen), for dependencies only some runs need.
#pragma once

#include <expected>
#include <string>

namespace oos::util {

// Move-only owner of a dlopen() handle; closes it on destruction.
class SharedLibrary {
 public:
  // Whether closing the last handle unmaps the library: never (RTLD_NODELETE) for one whose code may still run
  // afterwards (objects, vtables or exceptions it made that outlive the handle).
  enum class Unload { on_close, never };

  // Opens `soname` (e.g. "libsystemd.so.0") or a path. Error: "cannot load libsystemd.so.0: <dlerror>", without
  // dlerror's own repetition of the name.
  [[nodiscard]] static std::expected<SharedLibrary, std::string> open(const std::string& soname,
                                                                      Unload unload = Unload::on_close);

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
