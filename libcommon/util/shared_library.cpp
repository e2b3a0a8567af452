#include "util/shared_library.hpp"

#include <dlfcn.h>

namespace oos::util {

std::expected<SharedLibrary, std::string> SharedLibrary::open(const std::string& soname) {
  void* handle = ::dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* error = ::dlerror();
    return std::unexpected("cannot load " + soname + ": " + (error ? error : "unknown error"));
  }
  return SharedLibrary(handle);
}

SharedLibrary& SharedLibrary::operator=(SharedLibrary&& other) noexcept {
  if (this != &other) {
    if (m_handle) ::dlclose(m_handle);
    m_handle = other.m_handle;
    other.m_handle = nullptr;
  }
  return *this;
}

SharedLibrary::~SharedLibrary() {
  if (m_handle) ::dlclose(m_handle);
}

void* SharedLibrary::lookup(const char* symbol) const {
  return m_handle ? ::dlsym(m_handle, symbol) : nullptr;
}

}  // namespace oos::util
