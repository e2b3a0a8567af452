#include "store/database_url.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "error.hpp"

namespace oos::store {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Whether the URL's user info (before '@', within the authority) or its query gives a password.
bool carries_password(std::string_view url) {
  auto rest = url.substr(url.find("://") + 3);
  auto authority = rest.substr(0, rest.find_first_of("/?"));
  if (auto at = authority.rfind('@');
      at != std::string_view::npos && authority.substr(0, at).find(':') != std::string_view::npos)
    return true;
  if (auto query = url.find('?'); query != std::string_view::npos) {
    auto params = "&" + lower(url.substr(query + 1));
    if (params.find("&password=") != std::string::npos) return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> resolve_database_url(const std::string& configured, const char* from_env) {
  const bool env = from_env && *from_env;
  std::string url = env ? std::string(from_env) : configured;
  if (url.empty()) return std::nullopt;
  const std::string where = env ? "OOS_DATABASE_URL" : "db.url";
  auto scheme = lower(url.substr(0, url.find("://")));
  if (url.find("://") == std::string::npos || (scheme != "postgresql" && scheme != "postgres"))
    throw Error(ExitCode::config, where + ": not a PostgreSQL URL: use postgresql://USER@HOST[:PORT]/DATABASE");
  if (carries_password(url))
    throw Error(ExitCode::config, where + ": the URL carries a password: remove it and give it as the secret " +
                                      std::string(k_database_password_secret) + " (a credential or the environment)");
  return url;
}

}  // namespace oos::store
