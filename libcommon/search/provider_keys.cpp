#include "search/provider_keys.hpp"

#include "keys/key_ring.hpp"

namespace oos::search {

std::string ring_secret(std::string_view key_secret) {
  return std::string(key_secret) + "S";
}

ProviderSecrets provider_secrets(const Provider& provider, const secrets::SecretStore& secrets) {
  ProviderSecrets found;
  auto key = provider.key_secret();
  if (!key.empty()) {
    auto ring = ring_secret(key);
    auto ring_keys = keys::parse_ring(secrets.get(ring).value_or(""));
    if (!ring_keys.keys.empty()) {
      found.ring = ring;
      found.ring_keys = std::move(ring_keys.keys);
    }
  }
  for (const auto& name : provider.secret_names()) {
    if (found.ring && name == key) continue;
    if (auto value = secrets.get(name))
      found.values[name] = *value;
    else
      found.missing.push_back(name);
  }
  return found;
}

}  // namespace oos::search
