#include "search/client.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "breaker/breaker_store.hpp"
#include "policy/backoff.hpp"
#include "search/cache.hpp"
#include "search/http.hpp"
#include "search/ledger.hpp"
#include "util/random.hpp"
#include "util/time.hpp"

namespace oos::search {
namespace {

constexpr std::string_view k_breaker_kind = "search";
// Backoff between attempts of one provider after a transient error: 1 s, then 2 s, with 20% jitter.
constexpr std::array<std::int64_t, 2> k_backoff_seconds{1, 2};
constexpr double k_backoff_jitter = 0.2;
// A half-open probe older than this belongs to a process that died (a search takes far less): take it over.
constexpr util::Millis k_probe_takeover{5 * 60 * 1000};
// Below this much budget a request is not worth sending.
constexpr util::Millis k_least_request_time{200};

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

// One search through the chain: what each provider said, the time slept, and the secrets to scrub.
class Chain {
 public:
  Chain(db::Database& db, const config::Config& config, const util::Clock& clock, log::Logger& logger,
        const SearchClient::Sleep& sleep, const SearchRequest& request)
      : m_db(db),
        m_config(config),
        m_clock(clock),
        m_logger(logger),
        m_sleep(sleep),
        m_request(request),
        m_breakers(db, config.breaker, logger),
        m_ledger(db),
        m_started(util::monotonic_seconds()) {}

  // The provider's page, or nullopt after noting why it could not answer. Throws SearchError for a bad request.
  std::optional<Page> ask(const Provider& provider, const SecretValues& secrets) {
    auto name = std::string(provider.name());
    m_secret_values.clear();
    for (const auto& [key, value] : secrets) m_secret_values.push_back(value);
    if (out_of_budget()) return skip_for_budget(name);
    if (!admitted(name)) return std::nullopt;
    // A probe slot taken here is given back if anything below throws (a busy database, a bad request).
    ProbeGuard guard(*this, name);
    const auto& settings = m_config.search.provider.at(name);
    for (int attempt = 1;; ++attempt) {
      if (out_of_budget()) {
        record(name, Outcome::neutral);
        return skip_for_budget(name);
      }
      auto quota = m_ledger.acquire(name, quota_settings(settings), policy::quota_zone(name), m_clock.now());
      if (quota.verdict == policy::QuotaVerdict::spent) {
        return give_up(name, SearchFailure::quota,
                       fmt::format("daily quota of {} spent until {}", settings.daily_quota,
                                   util::format_iso8601(quota.resets_at)),
                       Outcome::neutral);
      }
      if (quota.verdict == policy::QuotaVerdict::paced) {
        if (sleep_within_limits(quota.wait)) continue;
        return give_up(name, SearchFailure::rate_limited,
                       fmt::format("paced to {} requests a day: next request in {}", settings.daily_quota,
                                   util::format_duration(quota.wait)),
                       Outcome::neutral);
      }
      auto result = send(provider, secrets);
      if (result) {
        record(name, Outcome::success);
        return std::move(*result);
      }
      auto& failure = result.error();
      failure.message = secrets::scrub(failure.message, m_secret_values);
      m_logger.warn(fmt::format("search provider {}: {} (attempt {})", name, failure.message, attempt),
                    {{"provider", name}});
      // A probe gets one request: its failure re-opens the breaker.
      bool may_retry = attempt < k_attempts_per_provider && !m_probing;
      switch (failure.problem) {
        case Problem::bad_request:
          record(name, Outcome::neutral);
          throw SearchError(SearchFailure::bad_request, fmt::format("{} refused the query: {}", name, failure.message));
        case Problem::quota_exhausted:
          m_ledger.mark_exhausted(name, quota_settings(settings), policy::quota_zone(name), m_clock.now());
          return give_up(name, SearchFailure::quota, failure.message, Outcome::neutral);
        case Problem::permanent: return give_up(name, SearchFailure::permanent, failure.message, Outcome::failure);
        case Problem::rate_limited: {
          if (may_retry && failure.retry_after && sleep_within_limits(*failure.retry_after)) continue;
          auto why = !failure.retry_after ? std::string()
                     : !may_retry         ? fmt::format("; still limited after {} attempts", attempt)
                                          : fmt::format("; Retry-After {} is beyond --max-wait",
                                                        util::format_duration(*failure.retry_after));
          return give_up(name, SearchFailure::rate_limited, failure.message + why, Outcome::neutral);
        }
        case Problem::transient: {
          auto delay = failure.retry_after.value_or(
              policy::retry_delay(attempt, k_backoff_seconds, k_backoff_jitter, m_rng.fraction()));
          if (may_retry && sleep_within_limits(delay)) continue;
          // One failed search is one breaker failure, however many attempts it made.
          return give_up(name, SearchFailure::unavailable, failure.message, Outcome::failure);
        }
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
  enum class Outcome { success, failure, neutral };

  // Whether the breaker lets a request through (an open breaker that has cooled down lets one probe; so does a
  // half-open one whose probe started more than k_probe_takeover ago, its process gone).
  bool admitted(const std::string& name) {
    db::WriteTransaction tx(m_db);
    auto breaker = m_breakers.load(k_breaker_kind, name);
    auto now = m_clock.now();
    m_probing = false;
    switch (policy::admit(breaker, now)) {
      case policy::Admission::allow: return true;
      case policy::Admission::probe:
        m_breakers.save(k_breaker_kind, name, breaker, policy::start_probe(breaker), now);
        tx.commit();
        m_probing = true;
        return true;
      case policy::Admission::deny: break;
    }
    if (breaker.state == policy::BreakerState::half_open) {
      auto since = m_breakers.changed_at(k_breaker_kind, name).value_or(now);
      if (now - since > k_probe_takeover.count()) {
        m_logger.warn(fmt::format("search provider {}: its probe started {} ago and never ended; probing again", name,
                                  util::format_age(util::Millis(now - since))),
                      {{"provider", name}});
        m_breakers.touch(k_breaker_kind, name, now);
        tx.commit();
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

  bool out_of_budget() const { return m_request.budget && *m_request.budget - elapsed() < k_least_request_time; }

  std::optional<Page> skip_for_budget(const std::string& name) {
    note(name, SearchFailure::unavailable, "not asked: no time left of the search's budget");
    return std::nullopt;
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
    auto response = http_get(http);
    if (!response) {
      auto what = response.error().kind == HttpErrorKind::timeout ? "timed out" : "request failed";
      return std::unexpected(
          ProviderFailure{Problem::transient, fmt::format("{}: {}", what, response.error().message), {}});
    }
    return provider.read(m_request.query, *response);
  }

  // Sleeps `wait` if the sleeps so far plus it stay within --max-wait (and the budget); false otherwise.
  bool sleep_within_limits(util::Millis wait) {
    if (m_slept + wait > m_request.max_wait) return false;
    if (m_request.budget && elapsed() + wait >= *m_request.budget) return false;
    m_sleep(wait);
    m_slept += wait;
    return true;
  }

  std::optional<Page> give_up(const std::string& name, SearchFailure why, const std::string& message, Outcome outcome) {
    record(name, outcome);
    note(name, why, message);
    return std::nullopt;
  }

  void record(const std::string& name, Outcome outcome) {
    m_probing = false;  // an outcome ends the probe, whatever it was
    db::WriteTransaction tx(m_db);
    auto now = m_clock.now();
    if (outcome == Outcome::success) m_breakers.record_success(k_breaker_kind, name, now);
    if (outcome == Outcome::failure) m_breakers.record_failure(k_breaker_kind, name, now);
    if (outcome == Outcome::neutral) m_breakers.record_neutral(k_breaker_kind, name, now);
    tx.commit();
  }

  util::Millis elapsed() const {
    return util::Millis(static_cast<std::int64_t>((util::monotonic_seconds() - m_started) * 1000));
  }

  db::Database& m_db;
  const config::Config& m_config;
  const util::Clock& m_clock;
  log::Logger& m_logger;
  const SearchClient::Sleep& m_sleep;
  const SearchRequest& m_request;
  breaker::BreakerStore m_breakers;
  RateLimitStore m_ledger;
  double m_started;
  util::Millis m_slept{0};
  util::Rng m_rng;
  bool m_probing = false;  // this search holds the provider's half-open probe
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

SearchClient::SearchClient(db::Database& db, const config::Config& config, const secrets::SecretStore& secrets,
                           const util::Clock& clock, log::Logger& logger, Sleep sleep)
    : m_db(db), m_config(config), m_secrets(secrets), m_clock(clock), m_logger(logger), m_sleep(std::move(sleep)) {}

SearchAnswer SearchClient::search(const SearchRequest& request) {
  SearchCache cache(m_db);
  std::optional<CachedPage> cached;
  if (request.use_cache) cached = cache.find(request.query);
  auto answer_from = [&](const CachedPage& c, bool stale) {
    return SearchAnswer{request.query, c.provider, true, stale, c.page, c.fetched_at, {}};
  };
  if (cached && cached->expires_at > m_clock.now()) return answer_from(*cached, false);

  Chain chain(m_db, m_config, m_clock, m_logger, m_sleep, request);
  for (const auto& name : m_config.search.providers) {
    auto provider = make_provider(name, m_config.search.provider.at(name));
    SecretValues secrets;
    std::vector<std::string> missing;
    for (const auto& key : provider->secret_names()) {
      if (auto value = m_secrets.get(key))
        secrets[key] = *value;
      else
        missing.push_back(key);
    }
    if (!missing.empty()) {
      chain.note(name, SearchFailure::not_configured, fmt::format("{} absent", fmt::join(missing, ", ")));
      continue;
    }
    if (auto page = chain.ask(*provider, secrets)) {
      auto now = m_clock.now();
      cache.store(request.query, name, *page, now, m_config.search.cache_ttl);
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
  std::vector<ProviderStatus> out;
  breaker::BreakerStore breakers(m_db, m_config.breaker, m_logger);
  RateLimitStore ledger(m_db);
  auto now = m_clock.now();
  for (const auto& name : m_config.search.providers) {
    ProviderStatus s;
    s.name = name;
    const auto& settings = m_config.search.provider.at(name);
    s.daily_quota = settings.daily_quota;
    for (const auto& key : make_provider(name, settings)->secret_names())
      if (!m_secrets.get(key)) s.missing.push_back(key);
    auto use = ledger.today(name, settings.daily_quota, now);
    s.used = use.used;
    s.spent = use.spent;
    s.resets_at = use.resets_at;
    s.breaker = breakers.load(k_breaker_kind, name);
    out.push_back(std::move(s));
  }
  return out;
}

void SearchClient::reset_breaker(const std::string& provider) {
  const auto& chain = m_config.search.providers;
  if (std::find(chain.begin(), chain.end(), provider) == chain.end())
    throw Error(ExitCode::no_input,
                fmt::format("no search provider '{}' in search.providers ({})", provider, fmt::join(chain, ", ")));
  breaker::BreakerStore breakers(m_db, m_config.breaker, m_logger);
  auto before = breakers.reset(k_breaker_kind, provider, m_clock.now());
  m_logger.info(
      fmt::format("search provider {}: breaker closed by hand (was {})", provider, policy::to_string(before.state)));
}

}  // namespace oos::search
