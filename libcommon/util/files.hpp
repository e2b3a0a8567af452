// Small file-system helpers that report failures as values naming the path and the cause.
#pragma once

#include <expected>
#include <filesystem>
#include <string>

namespace oos::util {

// Creates `dir` and its parents (mode 0750 for new ones) unless it exists as a directory.
// Error: "cannot create directory 'X': Permission denied".
[[nodiscard]] std::expected<void, std::string> ensure_directory(const std::filesystem::path& dir);

// The whole content of a file. Error: "cannot read 'X': No such file or directory".
[[nodiscard]] std::expected<std::string, std::string> read_file(const std::filesystem::path& path);

// fsync(2) of a file or a directory (after a rename in it). Error: "cannot sync 'X': Input/output error".
[[nodiscard]] std::expected<void, std::string> fsync_path(const std::filesystem::path& path, bool directory = false);

// Creates `path` empty with mode 0600 (whatever the umask) unless it exists; an existing file keeps its
// mode. For files that hold task data (the database, backups, manifests, logs): SQLite gives a new
// database 0644 less the umask, and its -wal and -shm take the database's mode.
// Error: "cannot create 'X': Permission denied".
[[nodiscard]] std::expected<void, std::string> create_private(const std::filesystem::path& path);

}  // namespace oos::util
