#include "api/router.hpp"

#include <fmt/format.h>

#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "api/etag.hpp"
#include "api/list_routes.hpp"
#include "api/overview_routes.hpp"
#include "api/problem.hpp"
#include "api/static_files.hpp"
#include "app/context.hpp"
#include "app/output.hpp"
#include "health/observe.hpp"
#include "keys/ring_status.hpp"
#include "policy/health.hpp"
#include "queue/batch_line.hpp"
#include "queue/queue_store.hpp"
#include "util/json.hpp"

namespace oos::api {
namespace {

using nlohmann::json;

// The path split at '/', without the empty first segment: "/api/v1/queue/q/stats" -> api v1 queue q stats.
// A trailing slash or an empty segment is kept as an empty segment, which no route matches.
std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.starts_with('/')) return out;
  path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

Response json_reply(int status, const json& doc) {
  return {status, {{"Content-Type", "application/json"}}, app::dump(doc) + "\n"};
}

// Only `allowed` may read this path: anything else is 405 with Allow.
std::optional<Response> refuse_method(const Request& r, std::string_view allowed) {
  if (r.method == allowed || (allowed == "GET" && r.method == "HEAD")) return std::nullopt;
  auto reply = problem(405, fmt::format("{} {}: only {} is allowed", r.method, r.path, allowed));
  reply.headers.emplace_back("Allow", allowed == "GET" ? "GET, HEAD" : std::string(allowed));
  return reply;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// 404 for a path no route serves.
Response no_such_resource(const Request& r) {
  return problem(404, fmt::format("no such resource: {}: the API serves /health and the /api/v1/ paths of "
                                  "docs/reference.md section 8.10",
                                  r.path));
}

// A 200 reply to GET or HEAD carries the ETag of its body; when If-None-Match names it, the reply is 304 with the
// same headers and no body.
void apply_entity_tag(const Request& r, Response& reply) {
  if (reply.status != 200 || (r.method != "GET" && r.method != "HEAD")) return;
  for (const auto& [name, value] : reply.headers)
    if (name == "ETag") return;  // a dashboard file's own tag, computed once (static_files)
  auto tag = entity_tag(reply.body);
  reply.headers.emplace_back("ETag", tag);
  auto condition = r.headers.find("if-none-match");
  if (condition == r.headers.end() || !none_match_hits(condition->second, tag)) return;
  reply.status = 304;
  reply.body.clear();
}

// What oos-health reads: the state directory's SQLite file and its backups, or on PostgreSQL the server and the
// stores through the backend (health::observe_shared), as oos-health does there.
policy::HealthInput health_input(const Sources& s, util::UnixMillis now) {
  health::Sources sources{s.config, s.state_dir, s.backup_dir, now};
  if (s.backend.sqlite()) return health::observe(sources, s.logger);
  return health::observe_shared(sources, s.backend, s.clock);
}

}  // namespace

Response Router::handle(const Request& request) {
  Response reply;
  try {
    auto access = authorize(request, m_sources.access, is_public_path(request.path), m_csrf_token);
    bool write = request.method != "GET" && request.method != "HEAD";
    if (access.refusal) {
      reply = std::move(*access.refusal);
    } else if (write) {
      // The change and its api.write event commit together, or neither does: a failed write changed nothing, so
      // a client may repeat it. One commit (one fsync) per request, on either backend: the stores' own transactions
      // nest in this one. The event names the role, never the token, and a dry run records none.
      auto transaction = m_sources.backend.begin_write();
      reply = route(request);
      if (reply.status < 300) {
        bool dry_run = request.query.contains("dry_run") && request.query.at("dry_run") == "true";
        if (!dry_run)
          m_sources.backend.events().record(
              m_sources.clock.now(), "api.write", request.path,
              fmt::format("{} by {} token: {}", request.method, to_string(access.role), reply.status));
        transaction->commit();
      }
    } else {
      reply = route(request);
    }
    apply_entity_tag(request, reply);
  } catch (const std::exception&) {
    auto failure = app::describe_failure(std::current_exception(), m_sources.state_dir / "oos.db");
    reply = problem(http_status(static_cast<ExitCode>(failure.code)), failure.message);
    if (reply.status >= 500)
      m_sources.logger.warn(fmt::format("{} {}: {}", request.method, request.path, failure.message));
  }
  add_security_headers(reply);
  return reply;
}

Response Router::route(const Request& r) {
  auto& s = m_sources;
  auto parts = segments(r.path);
  auto now = s.clock.now();

  if (auto file = static_file(r)) return *file;
  if (parts.size() == 1 && parts[0] == "health") {
    if (auto refused = refuse_method(r, "GET")) return *refused;
    auto input = health_input(s, now);
    auto checks = policy::assess(input);
    auto status = policy::overall(checks);
    bool serving = status == policy::Health::ok || status == policy::Health::warning;
    return json_reply(serving ? 200 : 503, app::health_document(checks, static_cast<int>(status),
                                                                policy::perfdata(input), input.key_rings, input.now));
  }
  if (parts.size() == 1 && parts[0] == "metrics") {
    if (auto refused = refuse_method(r, "GET")) return *refused;
    return metrics_text(s.backend, now);
  }
  if (parts.size() < 3 || parts[0] != "api" || parts[1] != "v1") return no_such_resource(r);
  if (auto overview = overview_route(r, s)) return *overview;

  if (parts.size() == 3 && parts[2] == "csrf") {
    if (auto refused = refuse_method(r, "GET")) return *refused;
    return json_reply(200, json{{"csrf_token", m_csrf_token}});
  }
  auto& queues = s.backend.queues();
  auto& tasks = s.backend.tasks();
  if (parts.size() == 4 && parts[2] == "queue" && parts[3] == "status") {
    if (auto refused = refuse_method(r, "GET")) return *refused;
    return json_reply(
        200, app::status_document(queues.status(now), now, keys::waiting_rings(s.backend.key_rings(), s.config, now)));
  }
  if (parts.size() == 4 && parts[2] == "tasks") {
    if (auto refused = refuse_method(r, "GET")) return *refused;
    auto id = parse_int(parts[3]);
    auto task = id && *id > 0 ? tasks.find(*id) : std::nullopt;
    if (!task) throw Error(ExitCode::no_input, fmt::format("task {} not found", parts[3]));
    return json_reply(200, app::task_document(*task, tasks.attempts(task->id)));
  }
  if (parts.size() == 5 && parts[2] == "queue") {
    std::string name(parts[3]);
    if (parts[4] == "stats") {
      if (auto refused = refuse_method(r, "GET")) return *refused;
      auto stats = queues.stats(name, now);
      if (!stats) throw queue::unknown_queue(name);
      return json_reply(200, app::to_json(*stats, now));
    }
    if (parts[4] == "dead-letter") {
      if (auto refused = refuse_method(r, "GET")) return *refused;
      return list_dead_letter(r, name, queues, tasks);
    }
    if (parts[4] == "circuit-breaker") {
      if (auto refused = refuse_method(r, "GET")) return *refused;
      queues.require_known(name);
      return json_reply(200, app::breaker_document(name, queues.breakers().load("queue", name)));
    }
    if (parts[4] == "pause" || parts[4] == "resume") {
      if (auto refused = refuse_method(r, "POST")) return *refused;
      if (auto ok = queue::check_name("queue", name); !ok) throw Error(ExitCode::usage, ok.error());
      bool pause = parts[4] == "pause";
      bool changed = queues.set_paused(name, pause, now);
      return json_reply(200, app::paused_document(name, pause, changed));
    }
    if (parts[4] == "tasks") {
      if (r.method == "POST") return enqueue(r, name, tasks);
      if (r.method == "GET" || r.method == "HEAD") return list_tasks(r, name, queues, tasks);
      auto reply = problem(405, fmt::format("{} {}: only GET and POST are allowed", r.method, r.path));
      reply.headers.emplace_back("Allow", "GET, HEAD, POST");
      return reply;
    }
  }
  if (parts.size() == 6 && parts[2] == "queue" && parts[4] == "circuit-breaker" && parts[5] == "reset") {
    if (auto refused = refuse_method(r, "POST")) return *refused;
    std::string name(parts[3]);
    queues.require_known(name);
    auto before = queues.breakers().reset("queue", name, now);
    return json_reply(200, app::breaker_reset_document(name, before, queues.breakers().load("queue", name)));
  }
  if (parts.size() == 6 && parts[2] == "queue" && parts[4] == "dead-letter" && parts[5] == "retry") {
    if (auto refused = refuse_method(r, "POST")) return *refused;
    return retry_dead_letter(r, std::string(parts[3]), queues, tasks);
  }
  if (parts.size() == 7 && parts[2] == "queue" && parts[4] == "dead-letter" && parts[6] == "retry") {
    if (auto refused = refuse_method(r, "POST")) return *refused;
    auto id = parse_int(parts[5]);
    auto task = id && *id > 0 ? tasks.find(*id) : std::nullopt;
    if (!task || task->queue != parts[3])
      throw Error(ExitCode::no_input,
                  fmt::format("task {} not found in queue {}: GET /api/v1/queue/{}/dead-letter lists its dead tasks",
                              parts[5], parts[3], parts[3]));
    const std::vector<queue::TaskId> ids{task->id};
    return json_reply(200, app::requeued_document(tasks.requeue(ids, {}, DryRun::no), false));
  }
  return no_such_resource(r);
}

// The body is one batch-line object or an array of them; nothing is written unless all of them parse. The
// Idempotency-Key header is the unique key of a single task.
Response Router::enqueue(const Request& r, const std::string& name, queue::TaskStore& tasks) {
  if (auto ok = queue::check_name("queue", name); !ok) throw Error(ExitCode::usage, ok.error());
  // The envelope adds one level to the payload's, an array one more: deeper bodies are refused before parsing.
  auto first = r.body.find_first_not_of(" \t\r\n");
  bool array = first != std::string::npos && r.body[first] == '[';
  if (!util::json_depth_within(r.body, util::k_max_json_depth + (array ? 2 : 1)))
    throw Error(ExitCode::data_error,
                fmt::format("the body: payload is nested deeper than {} levels", util::k_max_json_depth));
  auto body =
      r.body.find('\0') == std::string::npos ? json::parse(r.body, nullptr, false) : json(json::value_t::discarded);
  if (body.is_discarded() || !(body.is_object() || body.is_array()))
    throw Error(ExitCode::data_error,
                "the body must be a JSON object such as {\"type\":\"t\",\"data\":{}} or an array of them");
  auto key = r.headers.find("idempotency-key");
  std::vector<queue::NewTask> items;
  if (body.is_object()) {
    items.push_back(queue::batch_item_from_json(body, "the body", name));
    if (key != r.headers.end()) {
      if (items[0].unique_key && *items[0].unique_key != key->second)
        throw Error(ExitCode::usage, "Idempotency-Key and unique_key differ: give one of them");
      items[0].unique_key = key->second;
    }
  } else {
    if (body.empty()) throw Error(ExitCode::data_error, "the body is an empty array: send at least one task object");
    if (key != r.headers.end())
      throw Error(ExitCode::usage, "Idempotency-Key names one task: give each item of an array its unique_key");
    for (std::size_t i = 0; i < body.size(); ++i)
      items.push_back(queue::batch_item_from_json(body[i], fmt::format("item {}", i + 1), name));
  }
  if (body.is_object()) {
    auto result = tasks.enqueue(items[0]);
    auto reply = json_reply(result.created ? 201 : 200, app::enqueued_document(result, items[0]));
    reply.headers.emplace_back("Location", fmt::format("/api/v1/tasks/{}", result.id));
    return reply;
  }
  auto results = tasks.enqueue_batch(items);
  auto list = json::array();
  for (std::size_t i = 0; i < results.size(); ++i) list.push_back(app::enqueued_document(results[i], items[i]));
  return json_reply(201, list);
}

}  // namespace oos::api
