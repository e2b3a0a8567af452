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

std::string scrub(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    static constexpr std::string_view k_mark = "[redacted]";
    // Resume after the mark, so a secret that occurs inside the mark cannot match forever.
    for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos + k_mark.size()))
      text.replace(pos, secret.size(), k_mark);
  }
  return text;
}

}  // namespace oos::secrets
