#include "search/client.hpp"

#include <SQLiteCpp/Exception.h>
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "db/database.hpp"
#include "keys/key_ring.hpp"
#include "search/cache.hpp"
#include "search/http.hpp"
#include "search/ledger.hpp"
#include "search/provider_keys.hpp"
#include "util/random.hpp"
#include "util/time.hpp"

namespace oos::search {
namespace {

// A half-open probe older than this belongs to a process that died (a search takes far less): take it over.
constexpr util::Millis k_probe_takeover{5 * 60 * 1000};

ExitCode exit_code_of(SearchFailure failure) {
  switch (failure) {
    case SearchFailure::bad_request: return ExitCode::data_error;
    case SearchFailure::not_configured: return ExitCode::config;
    case SearchFailure::rate_limited: return ExitCode::temp_fail;
    default: return ExitCode::unavailable;
  }
}

policy::QuotaSettings quota_settings(const config::SearchProvider& p) {
  return {p.daily_quota, p.burst};
}

// Runs `write`, bookkeeping after an answer was paid for (its breaker's success, the cache entry): a database
// that fails it (SQLite busy past db.busy_timeout, read-only or full; PostgreSQL away (75) or its disk full (74))
// costs the bookkeeping, not the answer. One warning names the cause. A corrupt SQLite file still throws:
// oos-integrity must hear of it; so does any other PostgreSQL failure (our SQL is wrong: 70).
template <typename Write>
void best_effort(log::Logger& logger, std::string_view what, const Write& write) {
  try {
    write();
  } catch (const SQLite::Exception& e) {
    if (db::is_corruption(e)) throw;
    logger.warn(fmt::format("search: {}: {}, ignoring", what, e.what()));
  } catch (const Error& e) {
    if (e.code() != ExitCode::temp_fail && e.code() != ExitCode::io_error) throw;
    logger.warn(fmt::format("search: {}: {}, ignoring", what, e.what()));
  }
}

// One search through the chain: performs decide()'s steps for each provider and keeps what each said, the
// time slept, and the secrets to scrub.
class Chain {
 public:
  Chain(SearchStore& store, keys::KeyRingStore& key_rings, const config::Config& config, const util::Clock& clock,
        log::Logger& logger, const HttpGet& http, const SearchRequest& request)
      : m_store(store),
        m_key_rings(key_rings),
        m_config(config),
        m_clock(clock),
        m_logger(logger),
        m_http(http),
        m_request(request),
        m_started(clock.monotonic()) {}

  // The provider's page, or nullopt after noting why it could not answer. Throws SearchError for a bad request.
  std::optional<Page> ask(const Provider& provider, const ProviderSecrets& found) {
    auto name = std::string(provider.name());
    m_secret_values.clear();
    for (const auto& [key, value] : found.values) m_secret_values.push_back(value);
    m_secret_values.insert(m_secret_values.end(), found.ring_keys.begin(), found.ring_keys.end());
    SecretValues secrets = found.values;
    const auto& settings = m_config.search.provider.at(name);
    Attempt attempt{0, false, settings.daily_quota, 0.0, static_cast<int>(found.ring_keys.size()), false};
    // Out of budget before the breaker is consulted: no probe slot is taken, nothing is recorded.
    if (auto first = decide(attempt, Ready{}, limits()); first.action == Action::give_up) {
      note(name, first.failure, first.reason);
      return std::nullopt;
    }
    if (!admitted(name)) return std::nullopt;
    attempt.probing = m_probing;
    // A probe slot taken here is given back if anything below throws (a busy database, a bad request).
    ProbeGuard guard(*this, name);
    std::optional<keys::TakenKey> key;  // the ring's key in hand
    std::string last_refusal;           // why the last key was put in cooldown
    Event event = Ready{};
    for (;;) {
      attempt.jitter_draw = m_rng.fraction();
      auto next = decide(attempt, event, limits());
      switch (next.action) {
        case Action::ask_quota:
          event = m_store.ledger().acquire(name, quota_settings(settings), policy::quota_zone(name), m_clock);
          break;
        case Action::pick_key: {
          auto taken = pick_key(*found.ring, found.ring_keys);
          if (taken) {
            key = std::move(*taken);
            secrets[std::string(provider.key_secret())] = key->value;
            attempt.key_in_hand = true;
            event = Ready{};
            break;
          }
          auto now = m_clock.now();
          event = KeysCooling{*found.ring, taken.error(), util::Millis(taken.error() - now),
                              policy::next_quota_reset(now, policy::quota_zone(name)), last_refusal};
          break;
        }
        case Action::wait:
          m_clock.sleep_for(next.wait.count());
          m_slept += next.wait;
          event = Ready{};
          break;
        case Action::send: {
          ++attempt.sent;
          auto result = send(provider, secrets);
          if (result) {
            best_effort(m_logger, fmt::format("provider {}'s breaker not told of its answer", name),
                        [&] { record(name, Outcome::success); });
            return std::move(*result);
          }
          auto& failure = result.error();
          failure.message = secrets::scrub(failure.message, m_secret_values);
          m_logger.warn(fmt::format("search provider {}: {} (attempt {})", name, failure.message, attempt.sent),
                        {{"provider", name}});
          event = std::move(failure);
          break;
        }
        case Action::next_key:
          cool_down(name, *found.ring, *key, *next.cool_key, next.reason);
          attempt.key_in_hand = false;
          last_refusal = next.reason;
          event = Ready{};
          break;
        case Action::refuse_query:
          record(name, next.outcome);
          throw SearchError(SearchFailure::bad_request, fmt::format("{} refused the query: {}", name, next.reason));
        case Action::give_up:
          if (next.cool_key) cool_down(name, *found.ring, *key, *next.cool_key, next.reason);
          if (next.spent_day)
            m_store.ledger().mark_exhausted(name, quota_settings(settings), policy::quota_zone(name), m_clock);
          record(name, next.outcome);
          note(name, next.failure, next.reason);
          return std::nullopt;
      }
    }
  }

  void note(const std::string& name, SearchFailure why, const std::string& message) {
    m_skipped.push_back(name + ": " + message);
    m_failures.push_back(why);
  }

  const std::vector<std::string>& skipped() const { return m_skipped; }

  // The failure that describes the whole chain: bad configuration only when nothing else was tried; then
  // rate limiting (try again soon), unavailability, quota, and permanent refusal last.
  SearchFailure verdict() const {
    auto has = [&](SearchFailure f) { return std::find(m_failures.begin(), m_failures.end(), f) != m_failures.end(); };
    for (auto f :
         {SearchFailure::rate_limited, SearchFailure::unavailable, SearchFailure::quota, SearchFailure::permanent})
      if (has(f)) return f;
    return SearchFailure::not_configured;
  }

 private:
  // Whether the breaker lets a request through (an open breaker that has cooled down lets one probe; so does a
  // half-open one whose probe started more than k_probe_takeover ago, its process gone).
  bool admitted(const std::string& name) {
    bool admit = false;
    m_probing = false;
    m_store.change_breaker(name, [&] { admit = admitted_now(name); });
    return admit;
  }

  // admitted()'s decision, inside the breaker's transaction.
  bool admitted_now(const std::string& name) {
    auto& breakers = m_store.breakers();
    auto breaker = breakers.load(k_breaker_kind, name);
    auto now = m_clock.now();
    switch (policy::admit(breaker, now)) {
      case policy::Admission::allow: return true;
      case policy::Admission::probe:
        breakers.save(k_breaker_kind, name, breaker, policy::start_probe(breaker), now);
        m_probing = true;
        return true;
      case policy::Admission::deny: break;
    }
    if (breaker.state == policy::BreakerState::half_open) {
      auto since = breakers.changed_at(k_breaker_kind, name).value_or(now);
      if (now - since > k_probe_takeover.count()) {
        m_logger.warn(fmt::format("search provider {}: its probe started {} ago and never ended; probing again", name,
                                  util::format_age(util::Millis(now - since))),
                      {{"provider", name}});
        breakers.touch(k_breaker_kind, name, now);
        m_probing = true;
        return true;
      }
      note(name, SearchFailure::unavailable, "breaker half-open: another process is probing");
      return false;
    }
    note(name, SearchFailure::unavailable,
         fmt::format("breaker open until {}", util::format_iso8601(policy::probe_at(breaker))));
    return false;
  }

  // Gives a probe slot back when ask() leaves by an exception before an outcome was recorded.
  class ProbeGuard {
   public:
    ProbeGuard(Chain& chain, std::string name) : m_chain(chain), m_name(std::move(name)) {}
    ~ProbeGuard() {
      if (!m_chain.m_probing) return;
      try {
        m_chain.record(m_name, Outcome::neutral);
      } catch (const std::exception& e) {
        m_chain.m_logger.warn(fmt::format("search provider {}: probe not given back: {}", m_name, e.what()));
      }
    }
    ProbeGuard(const ProbeGuard&) = delete;
    ProbeGuard& operator=(const ProbeGuard&) = delete;

   private:
    Chain& m_chain;
    std::string m_name;
  };

  // The ring's least recently used key not cooling down, taken in the KeyRingStore (shared with every process of
  // the database, as a handler's rings are); when every key cools down, the time the first is back.
  std::expected<keys::TakenKey, util::UnixMillis> pick_key(const std::string& ring,
                                                           const std::vector<std::string>& ring_keys) {
    if (!m_fingerprint_key) m_fingerprint_key = m_key_rings.fingerprint_key();
    return m_key_rings.take(ring, ring_keys, *m_fingerprint_key, m_clock.now());
  }

  // Keeps the key out of its ring for `cooldown` (docs/reference.md section 17), with a warning that names it by
  // its fingerprint.
  void cool_down(const std::string& name, const std::string& ring, const keys::TakenKey& key,
                 const KeyCooldown& cooldown, const std::string& why) {
    auto now = m_clock.now();
    auto until =
        cooldown.until_reset ? policy::next_quota_reset(now, policy::quota_zone(name)) : now + cooldown.length.count();
    m_key_rings.cool_down(ring, key.fingerprint, until);
    m_logger.warn(fmt::format("search provider {}: key {} of ring {}: {}; not used until {}", name, key.fingerprint,
                              ring, why, util::format_iso8601(until)),
                  {{"provider", name}});
  }

  std::expected<Page, ProviderFailure> send(const Provider& provider, const SecretValues& secrets) {
    auto http = provider.request(m_request.query, secrets);
    const auto& settings = m_config.search.provider.at(std::string(provider.name()));
    http.connect_timeout = settings.connect_timeout;
    http.timeout = settings.timeout;
    if (m_request.budget) {
      auto left = *m_request.budget - elapsed();
      http.timeout = std::min(http.timeout, left);
      http.connect_timeout = std::min(http.connect_timeout, left);
    }
    m_logger.debug(fmt::format("GET {}", redact_url(http.url)), {{"provider", std::string(provider.name())}});
    auto response = m_http(http);
    if (!response) {
      auto what = response.error().kind == HttpErrorKind::timeout ? "timed out" : "request failed";
      return std::unexpected(
          ProviderFailure{Problem::transient, fmt::format("{}: {}", what, response.error().message), {}});
    }
    response->received_at = m_clock.now();
    return provider.read(m_request.query, *response);
  }

  // What is left of --max-wait and of the budget.
  Limits limits() const {
    Limits l{m_request.max_wait - m_slept, std::nullopt};
    if (m_request.budget) l.time_left = *m_request.budget - elapsed();
    return l;
  }

  void record(const std::string& name, Outcome outcome) {
    m_probing = false;  // an outcome ends the probe, whatever it was
    m_store.change_breaker(name, [&] {
      auto& breakers = m_store.breakers();
      auto now = m_clock.now();
      if (outcome == Outcome::success) breakers.record_success(k_breaker_kind, name, now);
      if (outcome == Outcome::failure) breakers.record_failure(k_breaker_kind, name, now);
      if (outcome == Outcome::neutral) breakers.record_neutral(k_breaker_kind, name, now);
    });
  }

  util::Millis elapsed() const {
    return util::Millis(static_cast<std::int64_t>((m_clock.monotonic() - m_started) * 1000));
  }

  SearchStore& m_store;
  keys::KeyRingStore& m_key_rings;
  const config::Config& m_config;
  const util::Clock& m_clock;
  log::Logger& m_logger;
  const HttpGet& m_http;
  const SearchRequest& m_request;
  double m_started;
  util::Millis m_slept{0};
  util::Rng m_rng;
  bool m_probing = false;                        // this search holds the provider's half-open probe
  std::optional<std::string> m_fingerprint_key;  // KeyRingStore::fingerprint_key(), read at the first ring
  std::vector<std::string> m_secret_values;
  std::vector<std::string> m_skipped;
  std::vector<SearchFailure> m_failures;
};

// The advice that ends a failed search's message.
std::string_view what_to_do(SearchFailure failure) {
  switch (failure) {
    case SearchFailure::rate_limited: return "try again later, or allow a longer --max-wait";
    case SearchFailure::quota: return "'oos-search quota' shows when each quota resets";
    case SearchFailure::permanent: return "check each provider's key and account (the API may be closed to it)";
    case SearchFailure::not_configured:
      return "give the providers' keys as credentials or environment variables (README, Web search), or add "
             "searxng to search.providers";
    default: return "'oos-search quota' shows each provider's breaker; try again later";
  }
}

}  // namespace

SearchError::SearchError(SearchFailure failure, const std::string& message)
    : Error(exit_code_of(failure), message), m_failure(failure) {}

nlohmann::json to_json(const SearchAnswer& a) {
  auto doc = to_json(a.page);
  doc["query"] = a.query.text;
  doc["num"] = a.query.num;
  doc["start"] = a.query.start;
  doc["provider"] = a.provider;
  doc["cached"] = a.cached;
  doc["stale"] = a.stale;
  doc["fetched_at"] = util::format_iso8601(a.fetched_at);
  doc["skipped"] = a.skipped;
  return doc;
}

SearchClient::SearchClient(SearchStore& store, keys::KeyRingStore& key_rings, const config::Config& config,
                           const secrets::SecretStore& secrets, const util::Clock& clock, log::Logger& logger,
                           HttpGet http)
    : m_store(store),
      m_key_rings(key_rings),
      m_config(config),
      m_secrets(secrets),
      m_clock(clock),
      m_logger(logger),
      m_http(std::move(http)) {}

SearchAnswer SearchClient::search(const SearchRequest& request) {
  auto& cache = m_store.cache();
  std::optional<CachedPage> cached;
  if (request.use_cache) cached = cache.find(request.query);
  auto answer_from = [&](const CachedPage& c, bool stale) {
    return SearchAnswer{request.query, c.provider, true, stale, c.page, c.fetched_at, {}};
  };
  if (cached && cached->expires_at > m_clock.now()) return answer_from(*cached, false);

  Chain chain(m_store, m_key_rings, m_config, m_clock, m_logger, m_http, request);
  for (const auto& name : m_config.search.providers) {
    auto provider = make_provider(name, m_config.search.provider.at(name));
    auto found = provider_secrets(*provider, m_secrets);
    if (!found.missing.empty()) {
      chain.note(name, SearchFailure::not_configured, fmt::format("{} absent", fmt::join(found.missing, ", ")));
      continue;
    }
    if (auto page = chain.ask(*provider, found)) {
      auto now = m_clock.now();
      best_effort(m_logger, fmt::format("the answer from {} was not cached", name),
                  [&] { cache.store(request.query, name, *page, now, m_config.search.cache_ttl); });
      return SearchAnswer{request.query, name, false, false, std::move(*page), now, chain.skipped()};
    }
  }
  auto verdict = chain.verdict();
  auto why = fmt::format("{}", fmt::join(chain.skipped(), "; "));
  if (cached && verdict != SearchFailure::not_configured) {
    m_logger.warn("every search provider failed; serving the cached result from " +
                  util::format_iso8601(cached->fetched_at) + " as stale: " + why);
    auto answer = answer_from(*cached, true);
    answer.skipped = chain.skipped();
    return answer;
  }
  if (m_config.search.providers.empty()) throw SearchError(SearchFailure::not_configured, "search.providers is empty");
  throw SearchError(verdict, fmt::format("no search provider answered: {}; {}", why, what_to_do(verdict)));
}

std::vector<ProviderStatus> SearchClient::status() {
  return provider_status(m_store, m_config, m_secrets, m_clock.now());
}

void SearchClient::reset_breaker(const std::string& provider) {
  const auto& chain = m_config.search.providers;
  if (std::find(chain.begin(), chain.end(), provider) == chain.end())
    throw Error(ExitCode::no_input,
                fmt::format("no search provider '{}' in search.providers ({})", provider, fmt::join(chain, ", ")));
  auto before = m_store.breakers().reset(k_breaker_kind, provider, m_clock.now());
  m_logger.info(
      fmt::format("search provider {}: breaker closed by hand (was {})", provider, policy::to_string(before.state)));
}

}  // namespace oos::search
