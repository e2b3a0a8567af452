#include "commands.hpp"

#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "app/job.hpp"
#include "app/output.hpp"
#include "error.hpp"
#include "search/cache.hpp"
#include "search/client.hpp"
#include "search/search_store.hpp"
#include "secrets.hpp"
#include "util/duration.hpp"

namespace oos::tools::search {
namespace {

using nlohmann::json;
using oos::search::ProviderStatus;
using oos::search::SearchAnswer;

std::string joined(const std::vector<std::string>& words) {
  return fmt::format("{}", fmt::join(words, " "));
}

void print_answer(const SearchAnswer& a, bool as_json, util::UnixMillis now) {
  if (as_json) {
    std::cout << app::dump(oos::search::to_json(a)) << '\n';
    return;
  }
  std::string from = a.stale    ? fmt::format(", STALE: cached {} ago, every provider failed",
                                              util::format_age(util::Millis(now - a.fetched_at)))
                     : a.cached ? fmt::format(", cached {} ago", util::format_age(util::Millis(now - a.fetched_at)))
                                : "";
  std::cout << fmt::format("{} results from {}{}{}\n", a.page.results.size(), a.provider, from,
                           a.page.total_results ? fmt::format(" (about {} in all)", *a.page.total_results) : "");
  int n = a.query.start;
  for (const auto& r : a.page.results) {
    std::cout << fmt::format("\n{}. {}\n   {}\n", n++, r.title, r.link);
    if (!r.snippet.empty()) std::cout << "   " << r.snippet << '\n';
  }
}

void print_quota(const std::vector<ProviderStatus>& providers, bool as_json) {
  if (as_json) {
    std::cout << app::dump(app::quota_document(providers)) << '\n';
    return;
  }
  std::cout << fmt::format("{:<10} {:<28} {:>15} {:>10}  {:<21} {}\n", "PROVIDER", "KEYS", "USED/QUOTA", "REMAINING",
                           "RESETS", "BREAKER");
  for (const auto& s : providers) {
    auto keys = s.missing.empty() ? std::string("present") : "absent: " + fmt::format("{}", fmt::join(s.missing, ","));
    auto quota = s.daily_quota > 0 ? fmt::format("{}/{}", s.used, s.daily_quota) : fmt::format("{}/unlimited", s.used);
    auto remaining = s.spent              ? std::string("0 (spent)")
                     : s.daily_quota <= 0 ? std::string("-")
                                          : std::to_string(std::max<std::int64_t>(0, s.daily_quota - s.used));
    std::cout << fmt::format("{:<10} {:<28} {:>15} {:>10}  {:<21} {}\n", s.name, keys, quota, remaining,
                             util::format_iso8601(s.resets_at), policy::to_string(s.breaker.state));
  }
}

void add_metrics(metrics::Exposition& m, const std::vector<ProviderStatus>& providers) {
  for (const auto& s : providers) {
    metrics::Labels labels{{"provider", s.name}};
    m.add("oos_search_quota_used", metrics::Type::gauge, "Requests counted against today's quota",
          static_cast<double>(s.used), labels);
  }
  for (const auto& s : providers)
    if (s.daily_quota > 0)
      m.add("oos_search_quota_limit", metrics::Type::gauge,
            "The provider's daily quota (search.<provider>.daily_quota)", static_cast<double>(s.daily_quota),
            {{"provider", s.name}});
  for (const auto& s : providers)
    m.add("oos_search_breaker_open", metrics::Type::gauge, "Whether the provider's breaker is open or half-open",
          s.breaker.state == policy::BreakerState::closed ? 0 : 1, {{"provider", s.name}});
}

}  // namespace

int run(const Command& c, app::Context& context, store::Backend& backend) {
  auto secrets = secrets::SecretStore::from_environment();
  oos::search::SearchClient client(backend.search(), backend.key_rings(), context.config, secrets, context.clock,
                                   *context.logger);
  return app::run_job(context, {"search", ""}, [&](metrics::Exposition& metrics) {
    if (c.verb == Verb::quota) {
      if (c.reset_breaker) client.reset_breaker(*c.reset_breaker);
      auto providers = client.status();
      add_metrics(metrics, providers);
      print_quota(providers, c.json);
      return 0;
    }
    oos::search::SearchRequest request;
    request.query = {joined(c.words), c.num, c.start};
    request.use_cache = !c.no_cache;
    request.max_wait = context.config.search.max_wait;
    if (c.max_wait) {
      auto parsed = util::parse_duration(*c.max_wait);
      if (!parsed) throw Error(ExitCode::usage, "--max-wait: " + parsed.error());
      request.max_wait = *parsed;
    }
    try {
      auto answer = client.search(request);
      add_metrics(metrics, client.status());
      print_answer(answer, c.json, context.clock.now());
    } catch (const oos::search::SearchError&) {
      add_metrics(metrics, client.status());
      throw;
    }
    return 0;
  });
}

}  // namespace oos::tools::search
