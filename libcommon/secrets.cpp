#include "secrets.hpp"

#include <cstdlib>

#include "util/files.hpp"

namespace oos::secrets {

SecretStore SecretStore::from_environment() {
  const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
  return SecretStore(dir && *dir ? std::optional<std::filesystem::path>(dir) : std::nullopt);
}

std::optional<std::string> SecretStore::get(const std::string& name) const {
  if (name.empty() || name.find('/') != std::string::npos) return std::nullopt;
  if (m_credentials_dir) {
    if (auto content = util::read_file(*m_credentials_dir / name)) {
      if (!content->empty() && content->back() == '\n') content->pop_back();
      if (!content->empty()) return *content;
    }
  }
  const char* value = std::getenv(name.c_str());
  if (value && *value) return std::string(value);
  return std::nullopt;
}

std::string redact(const std::optional<std::string>& value) {
  if (!value) return "absent";
  if (value->size() < 12) return "present";
  return "present (…" + value->substr(value->size() - 4) + ")";
}

namespace {
constexpr std::string_view k_mark = "[redacted]";
constexpr std::size_t k_min_piece = 4;
}  // namespace

std::string scrub(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (secret.size() < k_min_secret_length) continue;
    // Resume after the mark, so a secret that occurs inside the mark cannot match forever.
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + k_mark.size()))
      text.replace(pos, secret.size(), k_mark);
  }
  return text;
}

std::string scrub_excerpt(std::string text, const std::vector<std::string>& secrets, bool cut_start, bool cut_end) {
  text = scrub(std::move(text), secrets);
  for (const auto& secret : secrets) {
    if (secret.size() < k_min_secret_length) continue;
    // The longest piece first: the end of the secret at a cut start, its beginning at a cut end.
    for (std::size_t n = std::min(secret.size() - 1, text.size()); n >= k_min_piece; --n) {
      if (cut_start && text.compare(0, n, secret, secret.size() - n, n) == 0) {
        text.replace(0, n, k_mark);
        break;
      }
    }
    for (std::size_t n = std::min(secret.size() - 1, text.size()); n >= k_min_piece; --n) {
      if (cut_end && text.compare(text.size() - n, n, secret, 0, n) == 0) {
        text.replace(text.size() - n, n, k_mark);
        break;
      }
    }
  }
  return text;
}

}  // namespace oos::secrets
