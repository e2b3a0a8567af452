// The search client of oos-search and the worker's built-in `search` type (docs/reference.md section 17): the cache
// first, then the providers of search.providers in order, each behind its breaker, its daily quota and
// pacing (shared through the database), with retries of transient errors (exponential backoff with jitter,
// Retry-After honoured) within --max-wait, and a provider's key taken from its key ring when it has one (a rate
// limited or spent key gives way to the ring's next before the next provider); an expired cache entry is served as
// stale when every provider fails. What to do next with a provider is decided by search/decision.hpp; this is the
// executor, over the database, the injected HTTP GET and the injected Clock (which it sleeps on and measures the budget
// with).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "error.hpp"
#include "keys/key_ring_store.hpp"
#include "log.hpp"
#include "policy/breaker.hpp"
#include "policy/quota.hpp"
#include "search/decision.hpp"
#include "search/http.hpp"
#include "search/provider.hpp"
#include "search/quota_status.hpp"
#include "search/search_store.hpp"
#include "secrets.hpp"
#include "util/time.hpp"

namespace oos::search {

struct SearchRequest {
  Query query;
  bool use_cache = true;          // false (--no-cache): neither a fresh nor a stale entry is served
  util::Millis max_wait{30'000};  // the most the client sleeps in all (pacing, Retry-After, backoff)
  // The most the whole search may take, requests included (the worker's bound, so its watchdog keeps
  // being fed); nullopt: only each request's own timeouts bound it.
  std::optional<util::Millis> budget;
};

struct SearchAnswer {
  Query query;
  std::string provider;  // who answered (for a cached page: who answered then)
  bool cached = false;
  bool stale = false;  // an expired entry, served because every provider failed
  Page page;
  util::UnixMillis fetched_at = 0;
  std::vector<std::string> skipped;  // why providers before the one that answered did not
};

class SearchError : public Error {
 public:
  SearchError(SearchFailure failure, const std::string& message);
  SearchFailure failure() const noexcept { return m_failure; }

 private:
  SearchFailure m_failure;
};

// The answer as `oos-search --json` prints it and a `search` task stores it: {"query","num","start","provider",
// "cached","stale","fetched_at","results":[{"title","link","snippet"}],"total_results","next_start","skipped"}.
nlohmann::json to_json(const SearchAnswer& answer);

class SearchClient {
 public:
  // `http`: how requests are sent (curl; tests pass a fake). `clock`: the time stored, the budget measured and
  // every wait slept (pacing, Retry-After, backoff).
  // `store`: the ledger, cache and breakers (store::Backend::search()). `key_rings`: the keys of the providers' key
  // rings, GOOGLE_SEARCH_API_KEYS and BRAVE_SEARCH_API_KEYS (store::Backend::key_rings()).
  SearchClient(SearchStore& store, keys::KeyRingStore& key_rings, const config::Config& config,
               const secrets::SecretStore& secrets, const util::Clock& clock, log::Logger& logger,
               HttpGet http = http_get);

  // Throws SearchError (a failed search), oos::Error (database; PostgreSQL away: 75) or SQLite::Exception. Once a
  // provider has answered, a failed write of its breaker's success or of the cache entry is a warning
  // ("..., ignoring"), not a failed search: the answer was paid for.
  SearchAnswer search(const SearchRequest& request);

  // Every provider of search.providers, in order.
  std::vector<ProviderStatus> status();

  // Closes the provider's breaker by hand (an event "breaker.reset"). Throws oos::Error 66 for a provider not in
  // search.providers.
  void reset_breaker(const std::string& provider);

 private:
  SearchStore& m_store;
  keys::KeyRingStore& m_key_rings;
  const config::Config& m_config;
  const secrets::SecretStore& m_secrets;
  const util::Clock& m_clock;
  log::Logger& m_logger;
  HttpGet m_http;
};

}  // namespace oos::search
