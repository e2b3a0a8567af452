// Each search provider's quota day and breaker, as `oos-search quota` and oos-api's GET /api/v1/search/quota show
// them: read from the ledger (`rate_limits`) and the breakers of a SearchStore, in liboos so that oos-api needs no
// libcurl.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config.hpp"
#include "policy/breaker.hpp"
#include "search/search_store.hpp"
#include "secrets.hpp"
#include "util/time.hpp"

namespace oos::search {

// Per provider, what `oos-search quota` shows.
struct ProviderStatus {
  std::string name;
  std::vector<std::string> missing;  // secrets it needs that are absent
  std::int64_t daily_quota = 0;      // 0: unlimited
  std::int64_t used = 0;             // today
  bool spent = false;                // used up, or the provider said so
  util::UnixMillis resets_at = 0;
  policy::BreakerRecord breaker;
};

// Every provider of search.providers, in order, at `now`; reads only.
std::vector<ProviderStatus> provider_status(SearchStore& store, const config::Config& config,
                                            const secrets::SecretStore& secrets, util::UnixMillis now);

}  // namespace oos::search
