#include "util/sha256.hpp"

#include <openssl/evp.h>
#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>

#include "util/hex.hpp"

namespace oos::util {

std::expected<std::string, std::string> sha256_file(const std::filesystem::path& path,
                                                    const ProgressCallback& progress) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!file) return std::unexpected(path.string() + ": " + std::strerror(errno));
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1)
    return std::unexpected("cannot start a SHA-256 digest");
  std::array<unsigned char, 1 << 16> buffer{};
  std::optional<std::uint64_t> size;
  if (struct stat st{}; progress && ::fstat(::fileno(file.get()), &st) == 0)
    size = static_cast<std::uint64_t>(st.st_size);
  std::uint64_t read = 0;
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get())) {
    EVP_DigestUpdate(context.get(), buffer.data(), n);
    read += n;
    if (progress) progress({.stage = "checksum", .done = read, .total = size, .unit = ProgressUnit::bytes});
  }
  if (std::ferror(file.get())) return std::unexpected(path.string() + ": read error");
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(context.get(), digest.data(), &length);
  return to_hex(std::span(digest.data(), length));
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 digest failed");
  return to_hex(std::span(digest.data(), length));
}

}  // namespace oos::util
