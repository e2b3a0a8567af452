#include "api/list_routes.hpp"

#include <fmt/format.h>

#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "app/output.hpp"
#include "error.hpp"
#include "metrics/queue_metrics.hpp"
#include "queue/list_limits.hpp"
#include "util/json.hpp"
#include "util/name.hpp"

namespace oos::api {
namespace {

using nlohmann::json;

// The most of `oos-queue list --limit` (at least 1, an int); the other limits are queue/list_limits.hpp's.
constexpr std::int64_t k_max_task_limit = std::numeric_limits<int>::max();

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

const std::string* query_value(const Request& r, const std::string& name) {
  auto it = r.query.find(name);
  return it == r.query.end() ? nullptr : &it->second;
}

std::int64_t limit_of(const Request& r, std::int64_t fallback, std::int64_t max) {
  const auto* text = query_value(r, "limit");
  if (!text) return fallback;
  auto value = parse_int(*text);
  if (!value || *value < 1 || *value > max)
    throw Error(ExitCode::usage, fmt::format("limit: '{}' is not a number from 1 to {}", *text, max));
  return *value;
}

std::optional<queue::TaskId> cursor_of(const Request& r) {
  const auto* text = query_value(r, "cursor");
  return text ? std::optional(parse_cursor(*text)) : std::nullopt;
}

// One page: `rows` was read with limit + 1, so one row more than `limit` means that a next page exists.
Response page_reply(const Request& r, std::vector<queue::Task> rows, std::int64_t limit) {
  bool more = std::cmp_greater(rows.size(), limit);
  if (more) rows.resize(static_cast<std::size_t>(limit));
  auto list = json::array();
  for (const auto& t : rows) list.push_back(app::to_json(t));
  Response reply{200, {{"Content-Type", "application/json"}}, app::dump(list) + "\n"};
  if (more) reply.headers.emplace_back("Link", next_link(r.path, r.query, rows.back().id));
  return reply;
}

std::optional<std::string> type_of(const std::string* text) {
  if (!text) return std::nullopt;
  if (auto ok = queue::check_name("type", *text); !ok) throw Error(ExitCode::usage, ok.error());
  return *text;
}

// The filter of a bulk retry's body: empty, {} or {"type": T, "error": TEXT}.
queue::DeadFilter retry_filter(const std::string& queue, const std::string& body) {
  queue::DeadFilter filter{queue, std::nullopt, std::nullopt};
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return filter;
  const auto* shape = R"(the body must be a JSON object such as {"type":"t","error":"text"}, both optional)";
  if (!util::json_depth_within(body, util::k_max_json_depth) || body.find('\0') != std::string::npos)
    throw Error(ExitCode::data_error, shape);
  auto doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) throw Error(ExitCode::data_error, shape);
  for (const auto& [key, value] : doc.items()) {
    if (key != "type" && key != "error")
      throw Error(ExitCode::data_error,
                  fmt::format("the body: unknown field '{}': only type and error", util::cut_for_message(key)));
    if (!value.is_string()) throw Error(ExitCode::data_error, fmt::format("the body: {} must be a string", key));
  }
  if (doc.contains("type")) {
    auto type = doc["type"].get<std::string>();
    filter.type = type_of(&type);
  }
  if (doc.contains("error")) filter.error_match = doc["error"].get<std::string>();
  return filter;
}

DryRun dry_run_of(const Request& r) {
  const auto* text = query_value(r, "dry_run");
  if (!text || *text == "false") return DryRun::no;
  if (*text == "true") return DryRun::yes;
  throw Error(ExitCode::usage, fmt::format("dry_run: '{}' is not true or false", util::cut_for_message(*text)));
}

}  // namespace

queue::TaskId parse_cursor(std::string_view text) {
  auto value = parse_int(text);
  if (!value || *value < 1)
    throw Error(ExitCode::usage,
                fmt::format("cursor: '{}' is not a cursor of this listing: follow the Link header of the page before, "
                            "or leave cursor out for the first page",
                            util::cut_for_message(text)));
  return *value;
}

std::string percent_encode(std::string_view text, std::string_view keep) {
  std::string out;
  for (char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '.' || c == '_' || c == '~';
    if (unreserved || keep.find(c) != std::string_view::npos)
      out += c;
    else
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
  }
  return out;
}

std::string next_link(std::string_view path, const std::map<std::string, std::string>& query, queue::TaskId last) {
  auto params = query;
  params["cursor"] = std::to_string(last);
  std::string out = "<" + percent_encode(path, "/:");
  char separator = '?';
  for (const auto& [name, value] : params) {
    out += separator + percent_encode(name) + "=" + percent_encode(value);
    separator = '&';
  }
  return out + ">; rel=\"next\"";
}

Response list_tasks(const Request& r, const std::string& queue, queue::QueueStore& queues, queue::TaskStore& tasks) {
  std::optional<queue::TaskStatus> status;
  if (const auto* text = query_value(r, "status")) {
    status = queue::parse_task_status(*text);
    if (!status)  // the CLI's words for --status
      throw Error(ExitCode::usage, fmt::format("status: {} not in {{pending,running,succeeded,dead,cancelled}}",
                                               util::cut_for_message(*text)));
  }
  auto limit = limit_of(r, queue::k_default_task_limit, k_max_task_limit);
  auto cursor = cursor_of(r);
  queues.require_known(queue);
  return page_reply(r, tasks.list(queue, status, limit + 1, cursor), limit);
}

Response list_dead_letter(const Request& r, const std::string& queue, queue::QueueStore& queues,
                          queue::TaskStore& tasks) {
  queue::DeadFilter filter{queue, type_of(query_value(r, "type")), std::nullopt};
  if (const auto* error = query_value(r, "error")) filter.error_match = *error;
  auto limit = limit_of(r, queue::k_default_dead_limit, queue::k_max_dead_limit);
  auto cursor = cursor_of(r);
  queues.require_known(queue);
  return page_reply(r, tasks.list_dead(filter, limit + 1, cursor), limit);
}

Response retry_dead_letter(const Request& r, const std::string& queue, queue::QueueStore& queues,
                           queue::TaskStore& tasks) {
  auto dry_run = dry_run_of(r);
  auto filter = retry_filter(queue, r.body);
  queues.require_known(queue);
  auto ids = tasks.requeue({}, filter, dry_run);
  return {200,
          {{"Content-Type", "application/json"}},
          app::dump(app::requeued_document(ids, dry_run == DryRun::yes)) + "\n"};
}

Response metrics_text(store::Backend& backend, util::UnixMillis now) {
  return {200, {{"Content-Type", std::string(k_metrics_content_type)}}, metrics::queue_metrics(backend, now).text()};
}

}  // namespace oos::api
