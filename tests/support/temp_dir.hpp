// A temporary directory for one test, removed with everything in it when the test ends.
#pragma once

#include <filesystem>

namespace oos::test {

class TempDir {
 public:
  TempDir();
  // In `parent` rather than the temporary directory (e.g. a tmpfs, where fsync costs nothing).
  explicit TempDir(const std::filesystem::path& parent);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return m_path; }
  std::filesystem::path operator/(const std::string& name) const { return m_path / name; }

 private:
  std::filesystem::path m_path;
};

// Writes `content` to `path` (creating or truncating it).
void write_file(const std::filesystem::path& path, const std::string& content);

}  // namespace oos::test
