// Small file-system helpers that report failures as values naming the path and the cause.
#pragma once

#include <cstdint>
#include <expected>
#include <filesystem>
#include <istream>
#include <optional>
#include <string>

namespace oos::util {

// Creates `dir` and its parents (mode 0750 for new ones) unless it exists as a directory, and syncs the
// parent of each one it creates, so that a power cut cannot take away a directory (and what is later synced
// in it) once this returned. Error: "cannot create directory 'X': Permission denied", "cannot sync 'X': ...".
[[nodiscard]] std::expected<void, std::string> ensure_directory(const std::filesystem::path& dir);

// The most read_file() reads unless told otherwise: every file OOS reads whole is far smaller.
inline constexpr std::uint64_t k_max_read_size = 16ull << 20;

// The whole content of a file of at most `limit` bytes, or nullopt when it is larger; reading stops after
// limit + 1 bytes, so that /dev/zero or a huge file costs no more memory than that. Error: "cannot read 'X':
// No such file or directory".
[[nodiscard]] std::expected<std::optional<std::string>, std::string> read_file_within(const std::filesystem::path& path,
                                                                                      std::uint64_t limit);

// read_file_within() with a file over `limit` as one more error: "'X' is larger than 16 MiB".
[[nodiscard]] std::expected<std::string, std::string> read_file(const std::filesystem::path& path,
                                                                std::uint64_t limit = k_max_read_size);

// Everything left in `in` when it is at most `limit` bytes; nullopt when there is more (after reading
// limit + 1 bytes, no further).
[[nodiscard]] std::optional<std::string> read_at_most(std::istream& in, std::uint64_t limit);

// A size in words for messages: "1 MiB", "64 KiB", "1000 bytes".
std::string size_words(std::uint64_t bytes);

// fsync(2) of a file or a directory (after a rename in it). Error: "cannot sync 'X': Input/output error".
[[nodiscard]] std::expected<void, std::string> fsync_path(const std::filesystem::path& path, bool directory = false);

// Creates `path` empty with mode 0600 (whatever the umask) unless it exists; an existing file keeps its
// mode. For files that hold task data (the database, backups, manifests, logs): SQLite gives a new
// database 0644 less the umask, and its -wal and -shm take the database's mode.
// Error: "cannot create 'X': Permission denied".
[[nodiscard]] std::expected<void, std::string> create_private(const std::filesystem::path& path);

}  // namespace oos::util
