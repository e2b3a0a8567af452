// Which database the tools use (docs/reference.md section 19): a PostgreSQL URL from $OOS_DATABASE_URL or the
// config's db.url, else SQLite in the state directory. The password is a secret of its own, never in the URL.
#pragma once

#include <optional>
#include <string>

namespace oos::store {

// The secret that holds the PostgreSQL password (a systemd credential or the environment).
inline constexpr const char* k_database_password_secret = "OOS_DATABASE_PASSWORD";

// `from_env` ($OOS_DATABASE_URL) when set and not empty, else `configured` (db.url) when not empty, else nullopt
// (SQLite). Throws oos::Error 78 naming where the URL came from when it is not a postgresql:// or postgres:// URL,
// or when it carries a password (user:password@ or ?password=): the password belongs in OOS_DATABASE_PASSWORD.
std::optional<std::string> resolve_database_url(const std::string& configured, const char* from_env);

}  // namespace oos::store
