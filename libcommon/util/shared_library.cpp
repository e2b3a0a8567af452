#include "util/shared_library.hpp"

#include <dlfcn.h>

#include <string_view>

namespace oos::util {

std::expected<SharedLibrary, std::string> SharedLibrary::open(const std::string& soname, Unload unload) {
  void* handle = ::dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL | (unload == Unload::never ? RTLD_NODELETE : 0));
  if (!handle) {
    const char* error = ::dlerror();
    std::string_view cause = error ? error : "unknown error";
    // "NAME: cannot open shared object file: ..." when NAME itself is missing; a missing dependency names itself.
    if (cause.starts_with(soname + ": ")) cause.remove_prefix(soname.size() + 2);
    return std::unexpected("cannot load " + soname + ": " + std::string(cause));
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
