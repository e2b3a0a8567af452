// Secret lookup (docs/reference.md section 11): the systemd credentials directory first, then the environment.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace oos::secrets {

// Where secrets come from. Values are never logged, printed or stored; use redact() to show them.
class SecretStore {
 public:
  // `credentials_dir`: systemd's $CREDENTIALS_DIRECTORY, if any.
  explicit SecretStore(std::optional<std::filesystem::path> credentials_dir)
      : m_credentials_dir(std::move(credentials_dir)) {}

  // A store over this process's $CREDENTIALS_DIRECTORY and environment.
  static SecretStore from_environment();

  // The secret `name`: the file <credentials_dir>/<name> (one trailing newline removed), else the
  // environment variable `name`; nullopt when neither exists or the value is empty.
  std::optional<std::string> get(const std::string& name) const;

 private:
  std::optional<std::filesystem::path> m_credentials_dir;
};

// How a secret may be shown: "present (…abcd)" with at most the last 4 characters, and none of them when
// the value is shorter than 12 characters; "absent" for nullopt.
std::string redact(const std::optional<std::string>& value);

// The shortest value scrub() redacts. A shorter one is no credential worth hiding, and replacing it would
// wreck every message that contains its letters (a one-character engine id "c" made "Failed to connect" read
// "Failed to [redacted]onne[redacted]t"); `oos-health validate` warns about a secret this short instead.
inline constexpr std::size_t k_min_secret_length = 8;

// `text` with every occurrence of any of `secrets` of at least k_min_secret_length characters replaced by
// "[redacted]"; for error messages and handler output that might echo a secret back. Shorter values are
// left in place.
std::string scrub(std::string text, const std::vector<std::string>& secrets);

// scrub() for an excerpt of a longer output: a piece of a secret (4 characters or more) left where the
// excerpt was cut (`cut_start`: it begins mid-output, `cut_end`: it stops mid-output) is redacted too. Secrets
// shorter than k_min_secret_length are left alone, as by scrub().
std::string scrub_excerpt(std::string text, const std::vector<std::string>& secrets, bool cut_start, bool cut_end);

}  // namespace oos::secrets
