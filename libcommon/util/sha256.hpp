// SHA-256 of a file, for backup manifests, and of a string, for the API's ETags (OpenSSL's libcrypto does the
// hashing).
#pragma once

#include <expected>
#include <filesystem>
#include <string>
#include <string_view>

#include "util/progress.hpp"

namespace oos::util {

// Lower-case hex digest of the file's contents; the error names the file and the cause. `progress` hears of the
// bytes read (stage "checksum", of the file's size).
[[nodiscard]] std::expected<std::string, std::string> sha256_file(const std::filesystem::path& path,
                                                                  const ProgressCallback& progress = {});

// Lower-case hex digest of `data` (64 characters).
std::string sha256_hex(std::string_view data);

}  // namespace oos::util
