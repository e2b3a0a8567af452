#include "api/overview_routes.hpp"

#include <fmt/format.h>

#include "api/problem.hpp"
#include "app/output.hpp"
#include "queue/queue_store.hpp"
#include "queue/task.hpp"
#include "queue/worker_registry.hpp"
#include "search/quota_status.hpp"
#include "search/search_store.hpp"
#include "secrets.hpp"

namespace oos::api {
namespace {

Response json_reply(const nlohmann::json& doc) {
  return {200, {{"Content-Type", "application/json"}}, app::dump(doc) + "\n"};
}

}  // namespace

std::optional<Response> overview_route(const Request& r, const Sources& s) {
  bool workers = r.path == "/api/v1/workers";
  bool activity = r.path == "/api/v1/activity";
  bool quota = r.path == "/api/v1/search/quota";
  if (!workers && !activity && !quota) return std::nullopt;
  if (r.method != "GET" && r.method != "HEAD") {
    auto reply = problem(405, fmt::format("{} {}: only GET is allowed", r.method, r.path));
    reply.headers.emplace_back("Allow", "GET, HEAD");
    return reply;
  }
  auto now = s.clock.now();
  if (workers) {
    auto& registry = s.backend.workers();
    auto rows = registry.list();
    return json_reply(app::workers_document(rows, registry.current_tasks(), now));
  }
  if (activity) {
    std::optional<std::string> name;
    auto& queues = s.backend.queues();
    if (auto it = r.query.find("queue"); it != r.query.end()) {
      if (auto ok = queue::check_name("queue", it->second); !ok) throw Error(ExitCode::usage, ok.error());
      queues.require_known(it->second);
      name = it->second;
    }
    return json_reply(app::activity_document(name, queues.activity(name, now)));
  }
  auto secrets = secrets::SecretStore::from_environment();
  return json_reply(app::quota_document(search::provider_status(s.backend.search(), s.config, secrets, now)));
}

}  // namespace oos::api
