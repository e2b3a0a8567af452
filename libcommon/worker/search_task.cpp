#include "worker/search_task.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace oos::worker {
namespace {

using nlohmann::json;
using policy::FailureKind;

InProcessResult failed(FailureKind kind, std::string error) {
  return {false, "", {kind, std::move(error), std::nullopt}};
}

FailureKind kind_of(search::SearchFailure failure) {
  switch (failure) {
    case search::SearchFailure::quota:
    case search::SearchFailure::rate_limited: return FailureKind::temporary;
    case search::SearchFailure::bad_request:
    case search::SearchFailure::not_configured:
    case search::SearchFailure::permanent: return FailureKind::permanent;
    case search::SearchFailure::unavailable: return FailureKind::retryable;
  }
  return FailureKind::retryable;
}

// An integer field of the payload within [low, high], or `fallback` when absent.
std::optional<int> bounded(const json& payload, const char* key, int low, int high, int fallback) {
  if (!payload.contains(key)) return fallback;
  const auto& v = payload[key];
  if (!v.is_number_integer() || v.get<std::int64_t>() < low || v.get<std::int64_t>() > high) return std::nullopt;
  return v.get<int>();
}

}  // namespace

InProcessResult run_search_task(search::SearchClient& client, const queue::Task& task, const config::Config& config) {
  auto payload = json::parse(task.payload, nullptr, false);
  if (!payload.is_object() || !payload.contains("query") || !payload["query"].is_string() ||
      payload["query"].get<std::string>().find_first_not_of(" \t\n") == std::string::npos)
    return failed(FailureKind::permanent, R"(search payload: expected {"query": "...", "num": 1-10, "start": 1-91})");
  auto num = bounded(payload, "num", 1, 10, 10);
  auto start = bounded(payload, "start", 1, 91, 1);
  if (!num || !start) return failed(FailureKind::permanent, "search payload: num must be 1-10 and start 1-91");

  search::SearchRequest request;
  request.query = {payload["query"].get<std::string>(), *num, *start};
  auto budget = std::min(k_search_task_budget, config.queue_settings(task.queue).lease / 2);
  request.budget = budget;
  request.max_wait = std::min(config.search.max_wait, budget / 2);
  try {
    return {true, search::to_json(client.search(request)).dump(), {}};
  } catch (const search::SearchError& e) {
    return failed(kind_of(e.failure()), e.what());
  }
}

}  // namespace oos::worker
