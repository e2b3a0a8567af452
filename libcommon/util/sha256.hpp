// SHA-256 of a file, for backup manifests (OpenSSL's libcrypto does the hashing).
#pragma once

#include <expected>
#include <filesystem>
#include <string>

namespace oos::util {

// Lower-case hex digest of the file's contents; the error names the file and the cause.
[[nodiscard]] std::expected<std::string, std::string> sha256_file(const std::filesystem::path& path);

}  // namespace oos::util
