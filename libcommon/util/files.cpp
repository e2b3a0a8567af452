#include "util/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>

#include "util/fd.hpp"

namespace oos::util {
namespace {

// Syncs the directory holding the new entry `path`. A parent we cannot open (write and search permission
// without read, as mkdir needs) is left unsynced: failing the whole creation for it would help no one.
std::expected<void, std::string> sync_new_entry(const std::filesystem::path& path) {
  auto parent = path.parent_path();
  if (parent.empty()) parent = ".";
  Fd fd(::open(parent.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (fd && ::fsync(fd.get()) != 0)
    return std::unexpected("cannot sync '" + parent.string() + "': " + std::strerror(errno));
  return {};
}

}  // namespace

std::expected<void, std::string> ensure_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return {};
  // One component at a time, so that every directory created here gets mode 0750 (less the umask).
  std::filesystem::path partial;
  for (const auto& part : dir) {
    partial /= part;
    if (std::filesystem::is_directory(partial, ec)) continue;
    if (::mkdir(partial.c_str(), 0750) != 0) {
      if (errno == EEXIST) continue;
      return std::unexpected("cannot create directory '" + dir.string() + "': " + std::strerror(errno));
    }
    // The new entry is in the parent: until the parent is synced, a power cut may take the directory away
    // with whatever is later written and synced inside it.
    if (auto synced = sync_new_entry(partial); !synced) return std::unexpected(synced.error());
  }
  if (!std::filesystem::is_directory(dir, ec))
    return std::unexpected("cannot create directory '" + dir.string() + "': " + std::strerror(ENOTDIR));
  return {};
}

std::optional<std::string> read_at_most(std::istream& in, std::uint64_t limit) {
  std::string content;
  char buffer[65536];
  while (in) {
    auto wanted = std::min<std::uint64_t>(sizeof buffer, limit + 1 - content.size());
    in.read(buffer, static_cast<std::streamsize>(wanted));
    content.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (content.size() > limit) return std::nullopt;
  }
  return content;
}

std::string size_words(std::uint64_t bytes) {
  constexpr std::pair<std::uint64_t, const char*> k_units[] = {
      {1ull << 30, "GiB"}, {1ull << 20, "MiB"}, {1ull << 10, "KiB"}};
  for (auto [unit, name] : k_units)
    if (bytes >= unit && bytes % unit == 0) return std::to_string(bytes / unit) + " " + name;
  return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
}

std::expected<std::optional<std::string>, std::string> read_file_within(const std::filesystem::path& path,
                                                                        std::uint64_t limit) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return std::unexpected("cannot read '" + path.string() + "': Is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected("cannot read '" + path.string() + "': " + std::strerror(errno));
  auto content = read_at_most(in, limit);
  if (in.bad()) return std::unexpected("cannot read '" + path.string() + "': " + std::strerror(errno));
  return content;
}

std::expected<std::string, std::string> read_file(const std::filesystem::path& path, std::uint64_t limit) {
  auto content = read_file_within(path, limit);
  if (!content) return std::unexpected(content.error());
  if (!*content) return std::unexpected("'" + path.string() + "' is larger than " + size_words(limit));
  return std::move(**content);
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
