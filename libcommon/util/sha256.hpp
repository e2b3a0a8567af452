// SHA-256 of a file, for backup manifests, and of a string, for the API's ETags (OpenSSL's libcrypto does the
// hashing).
#pragma once

#include <expected>
#include <filesystem>
#include <string>
#include <string_view>

namespace oos::util {

// Lower-case hex digest of the file's contents; the error names the file and the cause.
[[nodiscard]] std::expected<std::string, std::string> sha256_file(const std::filesystem::path& path);

// Lower-case hex digest of `data` (64 characters).
std::string sha256_hex(std::string_view data);

}  // namespace oos::util
