// Where a search provider's secrets come from (docs/reference.md section 17, key rings): its API key from the key
// ring `<KEY>S` (GOOGLE_SEARCH_API_KEYS, BRAVE_SEARCH_API_KEYS) when that secret holds a key, else from the one
// key's secret as before. Reads the SecretStore only; the client picks the ring's keys (search/client.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "search/provider.hpp"
#include "secrets.hpp"

namespace oos::search {

struct ProviderSecrets {
  SecretValues values;                 // what a request needs; with a ring, all but the key (one per request)
  std::vector<std::string> missing;    // the secrets absent; a key absent both ways is named by its one-key secret
  std::optional<std::string> ring;     // the ring the key comes from: BRAVE_SEARCH_API_KEYS
  std::vector<std::string> ring_keys;  // its keys, in the secret's order (keys::parse_ring)
};

// The name of the ring that may give the key of secret `key_secret`: BRAVE_SEARCH_API_KEY -> BRAVE_SEARCH_API_KEYS.
std::string ring_secret(std::string_view key_secret);

// The provider's secrets as `secrets` holds them. A ring that holds no key (empty entries only) counts as absent.
ProviderSecrets provider_secrets(const Provider& provider, const secrets::SecretStore& secrets);

}  // namespace oos::search
