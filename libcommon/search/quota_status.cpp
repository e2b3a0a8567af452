#include "search/quota_status.hpp"

#include "search/provider.hpp"
#include "search/provider_keys.hpp"

namespace oos::search {

std::vector<ProviderStatus> provider_status(SearchStore& store, const config::Config& config,
                                            const secrets::SecretStore& secrets, util::UnixMillis now) {
  std::vector<ProviderStatus> out;
  for (const auto& name : config.search.providers) {
    ProviderStatus s;
    s.name = name;
    const auto& settings = config.search.provider.at(name);
    s.daily_quota = settings.daily_quota;
    s.missing = provider_secrets(*make_provider(name, settings), secrets).missing;
    auto use = store.ledger().today(name, settings.daily_quota, now);
    s.used = use.used;
    s.spent = use.spent;
    s.resets_at = use.resets_at;
    s.breaker = store.breakers().load(k_breaker_kind, name);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace oos::search
