#include "app/output.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "error.hpp"
#include "util/json.hpp"

namespace oos::app {
namespace {

using nlohmann::json;
using oos::queue::Task;

json opt(const std::optional<std::string>& v) {
  return v ? json(*v) : json(nullptr);
}
json opt_time(const std::optional<util::UnixMillis>& v) {
  return v ? json(util::format_iso8601(*v)) : json(nullptr);
}

// The payload as JSON when it parses (it always should), else as a string. A payload nested deeper than
// util::k_max_json_depth (refused at enqueue, but a database written by an older version may hold one) stays
// a string too: copying or printing the parsed document would recurse once per level and overflow the stack.
json payload_json(const std::string& payload) {
  if (!util::json_depth_within(payload)) return json(payload);
  auto parsed = json::parse(payload, nullptr, false);
  return parsed.is_discarded() ? json(payload) : parsed;
}

// `text` (handler output, payloads, keys) made safe for a terminal, see printable(): trailing whitespace
// dropped, cut to `max` bytes with "...", then control characters escaped.
std::string one_line(std::string text, std::size_t max) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  if (text.size() > max) text = text.substr(0, max - 3) + "...";
  return printable(text);
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else if (c == 0xc2 && next >= 0x80 && next <= 0x9f) {  // U+0080..U+009F, the C1 controls (0x9b: CSI)
      out += fmt::format("\\xc2\\x{:02x}", next);
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string dump(const json& doc) {
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string age(std::optional<util::UnixMillis> since, util::UnixMillis now) {
  return since ? util::format_age(util::Millis(now - *since)) : "-";
}

json to_json(const Task& t) {
  return json{{"id", t.id},
              {"queue", t.queue},
              {"type", t.type},
              {"status", std::string(oos::queue::to_string(t.status))},
              {"priority", t.priority},
              {"run_at", util::format_iso8601(t.run_at)},
              {"attempts", t.attempts},
              {"max_attempts", t.max_attempts},
              {"unique_key", opt(t.unique_key)},
              {"lease_owner", opt(t.lease_owner)},
              {"lease_expires_at", opt_time(t.lease_expires_at)},
              {"last_error", opt(t.last_error)},
              {"result", opt(t.result)},
              {"replays", t.replays},
              {"created_at", util::format_iso8601(t.created_at)},
              {"updated_at", util::format_iso8601(t.updated_at)},
              {"finished_at", opt_time(t.finished_at)},
              {"payload", payload_json(t.payload)}};
}

json to_json(const oos::queue::Attempt& a) {
  return json{{"attempt", a.attempt},
              {"replay", a.replay},
              {"worker", opt(a.worker)},
              {"started_at", opt_time(a.started_at)},
              {"ended_at", util::format_iso8601(a.ended_at)},
              {"outcome", a.outcome},
              {"exit_code", a.exit_code ? json(*a.exit_code) : json(nullptr)},
              {"error", opt(a.error)}};
}

json to_json(const policy::BreakerRecord& b) {
  json out{{"state", std::string(policy::to_string(b.state))},
           {"consecutive_failures", b.consecutive_failures},
           {"cooldown_seconds", b.cooldown_ms / 1000}};
  out["opened_at"] = b.state == policy::BreakerState::closed ? json(nullptr) : json(util::format_iso8601(b.opened_at));
  out["probe_at"] =
      b.state == policy::BreakerState::open ? json(util::format_iso8601(policy::probe_at(b))) : json(nullptr);
  return out;
}

json to_json(const oos::queue::QueueStatus& s, util::UnixMillis now) {
  const auto& c = s.counts;
  return json{{"name", s.name},
              {"pending", c.pending},
              {"runnable", c.runnable},
              {"retrying", c.retrying},
              {"running", c.running},
              {"succeeded", c.succeeded},
              {"dead", c.dead},
              {"cancelled", c.cancelled},
              {"oldest_pending_age_seconds",
               c.oldest_runnable_since ? json(std::max<std::int64_t>(0, (now - *c.oldest_runnable_since) / 1000))
                                       : json(nullptr)},
              {"paused", s.paused},
              {"breaker", to_json(s.breaker)},
              {"alerts", s.alerts}};
}

json to_json(const oos::queue::QueueStats& s, util::UnixMillis now) {
  auto out = to_json(s.status, now);
  out["runs_last_hour"] = s.runs_last_hour;
  out["failures_last_hour"] = s.failures_last_hour;
  out["mean_run_seconds"] = s.mean_run_ms ? json(*s.mean_run_ms / 1000.0) : json(nullptr);
  return out;
}

std::string status_table(const std::vector<oos::queue::QueueStatus>& queues, util::UnixMillis now) {
  if (queues.empty()) return "no queues yet: add a task with 'oos-queue enqueue QUEUE TYPE'\n";
  auto row = [](auto&&... cols) {
    return fmt::format("{:<16} {:>8} {:>8} {:>8} {:>8} {:>9} {:>6} {:>9} {:>8} {:<6} {:<9} {}\n", cols...);
  };
  std::string out = row("QUEUE", "PENDING", "RUNNABLE", "RETRYING", "RUNNING", "SUCCEEDED", "DEAD", "CANCELLED",
                        "OLDEST", "PAUSED", "BREAKER", "ALERTS");
  for (const auto& s : queues) {
    const auto& c = s.counts;
    std::string alerts;
    for (const auto& a : s.alerts) alerts += (alerts.empty() ? "" : "; ") + a;
    out += row(s.name, c.pending, c.runnable, c.retrying, c.running, c.succeeded, c.dead, c.cancelled,
               age(c.oldest_runnable_since, now), s.paused ? "yes" : "no", policy::to_string(s.breaker.state),
               alerts.empty() ? "-" : alerts);
  }
  return out;
}

std::string cooling_rings_text(const std::vector<keys::RingWait>& cooling_rings) {
  std::string out;
  for (const auto& w : cooling_rings)
    out += fmt::format("key ring {}: every key cools down until {}; tasks of {} {} wait until then\n", w.ring,
                       util::format_iso8601(w.until), w.handlers.size() == 1 ? "handler" : "handlers",
                       fmt::join(w.handlers, ", "));
  return out;
}

std::string stats_text(const oos::queue::QueueStats& stats, util::UnixMillis now) {
  const auto& s = stats.status;
  const auto& c = s.counts;
  std::string out = fmt::format("queue:               {}\n", s.name);
  out += fmt::format("paused:              {}\n", s.paused ? "yes" : "no");
  out += fmt::format("pending:             {} ({} runnable, {} retrying)\n", c.pending, c.runnable, c.retrying);
  out += fmt::format("running:             {}\n", c.running);
  out += fmt::format("succeeded:           {}\n", c.succeeded);
  out += fmt::format("dead:                {}\n", c.dead);
  out += fmt::format("cancelled:           {}\n", c.cancelled);
  out += fmt::format("oldest pending:      {}\n", age(c.oldest_runnable_since, now));
  out += fmt::format("breaker:             {} ({} consecutive failures)\n", policy::to_string(s.breaker.state),
                     s.breaker.consecutive_failures);
  out += fmt::format("runs last hour:      {}\n", stats.runs_last_hour);
  out += fmt::format("failures last hour:  {}\n", stats.failures_last_hour);
  out += fmt::format("mean run time:       {}\n",
                     stats.mean_run_ms ? fmt::format("{:.3f}s", *stats.mean_run_ms / 1000.0) : std::string("-"));
  for (const auto& a : s.alerts) out += fmt::format("alert:               {}\n", a);
  return out;
}

std::string task_table(const std::vector<Task>& tasks) {
  auto row = [](auto&&... cols) { return fmt::format("{:>8} {:<10} {:<16} {:>8} {:>8} {:<24} {}\n", cols...); };
  std::string out = row("ID", "STATUS", "TYPE", "PRIORITY", "ATTEMPTS", "RUN_AT", "LAST_ERROR");
  for (const auto& t : tasks)
    out +=
        row(t.id, oos::queue::to_string(t.status), t.type, t.priority, fmt::format("{}/{}", t.attempts, t.max_attempts),
            util::format_iso8601(t.run_at), t.last_error ? one_line(*t.last_error, 60) : "-");
  return out;
}

std::string task_text(const Task& t, const std::vector<oos::queue::Attempt>& attempts) {
  std::string out = fmt::format("id:            {}\n", t.id);
  out += fmt::format("queue:         {}\n", t.queue);
  out += fmt::format("type:          {}\n", t.type);
  out += fmt::format("status:        {}\n", oos::queue::to_string(t.status));
  out += fmt::format("priority:      {}\n", t.priority);
  out += fmt::format("attempts:      {}/{}\n", t.attempts, t.max_attempts);
  out += fmt::format("run at:        {}\n", util::format_iso8601(t.run_at));
  out += fmt::format("created:       {}\n", util::format_iso8601(t.created_at));
  if (t.finished_at) out += fmt::format("finished:      {}\n", util::format_iso8601(*t.finished_at));
  if (t.unique_key) out += fmt::format("unique key:    {}\n", printable(*t.unique_key));
  if (t.lease_owner) out += fmt::format("last worker:   {}\n", printable(*t.lease_owner));
  if (t.lease_expires_at) out += fmt::format("lease until:   {}\n", util::format_iso8601(*t.lease_expires_at));
  if (t.replays > 0) out += fmt::format("replays:       {}\n", t.replays);
  out += fmt::format("payload:       {}\n", printable(t.payload));
  if (t.last_error) out += fmt::format("last error:    {}\n", one_line(*t.last_error, 400));
  if (t.result) out += fmt::format("result:        {}\n", one_line(*t.result, 400));
  if (!attempts.empty()) out += "attempts:\n";
  // Every run in order; after a replay (oos-retry) the attempt numbers start again, marked "replay N".
  for (const auto& a : attempts)
    out += fmt::format("  #{:<3} {}{:<10} {} worker={} exit={} {}\n", a.attempt,
                       a.replay > 0 ? fmt::format("replay {} ", a.replay) : "", a.outcome,
                       util::format_iso8601(a.ended_at), printable(a.worker.value_or("-")),
                       a.exit_code ? std::to_string(*a.exit_code) : "-", a.error ? one_line(*a.error, 200) : "");
  return out;
}

void print_task(std::ostream& out, oos::queue::TaskStore& store, oos::queue::TaskId id, bool as_json) {
  auto task = store.find(id);
  if (!task) throw Error(ExitCode::no_input, fmt::format("task {} not found", id));
  auto attempts = store.attempts(id);
  if (!as_json) {
    out << task_text(*task, attempts);
    return;
  }
  out << dump(task_document(*task, attempts)) << '\n';
}

json status_document(const std::vector<oos::queue::QueueStatus>& queues, util::UnixMillis now,
                     const std::vector<keys::RingWait>& cooling_rings) {
  json out{{"queues", json::array()}, {"cooling_key_rings", json::array()}};
  for (const auto& s : queues) out["queues"].push_back(to_json(s, now));
  for (const auto& w : cooling_rings)
    out["cooling_key_rings"].push_back(
        {{"ring", w.ring}, {"until", util::format_iso8601(w.until)}, {"handlers", w.handlers}});
  return out;
}

json task_document(const Task& task, const std::vector<oos::queue::Attempt>& attempts) {
  auto doc = to_json(task);
  doc["attempt_history"] = json::array();
  for (const auto& a : attempts) doc["attempt_history"].push_back(to_json(a));
  return doc;
}

json breaker_document(const std::string& queue, const policy::BreakerRecord& breaker) {
  return json{{"queue", queue}, {"breaker", to_json(breaker)}};
}

json breaker_reset_document(const std::string& queue, const policy::BreakerRecord& before,
                            const policy::BreakerRecord& after) {
  return json{{"queue", queue}, {"was", to_json(before)}, {"breaker", to_json(after)}};
}

namespace {
json lease_json(const oos::queue::Lease& lease) {
  return json{{"token", lease.token}, {"expires_at", util::format_iso8601(lease.expires_at)}};
}
}  // namespace

json claimed_document(const std::optional<oos::queue::ClaimedTask>& claimed) {
  if (!claimed) return nullptr;
  auto doc = to_json(claimed->task);
  doc["lease"] = lease_json(claimed->lease);
  return doc;
}

json lease_document(const oos::queue::Lease& lease) {
  return json{{"id", lease.task_id}, {"lease", lease_json(lease)}};
}

json reported_document(oos::queue::TaskId id, oos::queue::TaskStatus status, std::optional<util::UnixMillis> retry_at) {
  return json{{"id", id}, {"status", std::string(oos::queue::to_string(status))}, {"retry_at", opt_time(retry_at)}};
}

std::string claimed_text(const oos::queue::ClaimedTask& claimed) {
  return task_text(claimed.task, {}) + fmt::format("lease token:   {}\n", claimed.lease.token);
}

json enqueued_document(const oos::queue::EnqueueResult& result, const oos::queue::NewTask& task) {
  return json{{"id", result.id}, {"created", result.created}, {"queue", task.queue}, {"type", task.type}};
}

json paused_document(const std::string& queue, bool paused, bool changed) {
  return json{{"queue", queue}, {"paused", paused}, {"changed", changed}};
}

json requeued_document(const std::vector<oos::queue::TaskId>& ids, bool dry_run) {
  return json{{"requeued", ids}, {"dry_run", dry_run}};
}

json health_document(const std::vector<policy::HealthCheck>& checks, int exit_code, const std::string& perfdata,
                     const std::vector<policy::KeyRingHealth>& key_rings, util::UnixMillis now) {
  auto list = json::array();
  for (const auto& c : checks)
    list.push_back({{"name", c.name}, {"status", policy::to_string(c.status)}, {"message", c.message}});
  auto rings = json::array();
  for (const auto& ring : key_rings) {
    auto keys = json::array();
    for (const auto& k : ring.keys) {
      bool cooling = policy::is_cooling(k, now);
      keys.push_back({{"fingerprint", k.fingerprint},
                      {"available", !cooling},
                      {"cooldown_until", cooling ? json(util::format_iso8601(k.cooldown_until)) : json(nullptr)},
                      {"uses_today", k.uses_today},
                      {"last_used_at", k.last_used_at ? json(util::format_iso8601(*k.last_used_at)) : json(nullptr)}});
    }
    rings.push_back({{"ring", ring.name}, {"handlers", ring.handlers}, {"keys", keys}});
  }
  return json{{"status", policy::to_string(policy::overall(checks))},
              {"exit_code", exit_code},
              {"summary", policy::summary_line(checks)},
              {"perfdata", perfdata},
              {"checks", list},
              {"key_rings", rings}};
}

json quota_document(const std::vector<oos::search::ProviderStatus>& providers) {
  auto list = json::array();
  for (const auto& s : providers) {
    json doc{{"provider", s.name},
             {"usable", s.missing.empty()},
             {"missing_secrets", s.missing},
             {"daily_quota", s.daily_quota},
             {"used", s.used},
             {"spent", s.spent},
             {"resets_at", util::format_iso8601(s.resets_at)},
             {"breaker", to_json(s.breaker)}};
    // A spent day has nothing left, also for an unlimited provider that said so; otherwise unlimited is null.
    doc["remaining"] = s.spent             ? json(0)
                       : s.daily_quota > 0 ? json(std::max<std::int64_t>(0, s.daily_quota - s.used))
                                           : json(nullptr);
    list.push_back(std::move(doc));
  }
  return json{{"providers", list}};
}

json workers_document(const std::vector<oos::queue::WorkerRow>& workers,
                      const std::map<std::string, oos::queue::CurrentTask>& current, util::UnixMillis now) {
  auto list = json::array();
  for (const auto& w : workers) {
    auto task = current.find(w.name);
    list.push_back({{"name", w.name},
                    {"pid", w.pid},
                    {"host", w.host},
                    {"started_at", util::format_iso8601(w.started_at)},
                    {"heartbeat_at", util::format_iso8601(w.heartbeat_at)},
                    {"heartbeat_age_seconds", std::max<util::UnixMillis>(0, now - w.heartbeat_at) / 1000},
                    {"status", w.status},
                    {"tasks_run", w.tasks_run},
                    {"current_task",
                     task == current.end()
                         ? json(nullptr)
                         : json{{"id", task->second.id}, {"queue", task->second.queue}, {"type", task->second.type}}}});
  }
  return json{{"workers", list}};
}

json activity_document(const std::optional<std::string>& queue, const oos::queue::Activity& activity) {
  auto buckets = [](const std::vector<oos::queue::ActivityBucket>& in) {
    auto out = json::array();
    for (const auto& b : in)
      out.push_back({{"start", util::format_iso8601(b.start)}, {"runs", b.runs}, {"failures", b.failures}});
    return out;
  };
  return json{{"queue", opt(queue)}, {"minutes", buckets(activity.minutes)}, {"hours", buckets(activity.hours)}};
}

std::string breaker_text(const std::string& queue, const policy::BreakerRecord& b, util::UnixMillis now) {
  std::string out = fmt::format("breaker of queue {}: {} ({} consecutive failures)\n", queue,
                                policy::to_string(b.state), b.consecutive_failures);
  if (b.state == policy::BreakerState::open)
    out += fmt::format("opened {} ago; a probe may run in {}; reset with 'oos-queue breaker {} --reset'\n",
                       age(b.opened_at, now), age(now, std::max(now, policy::probe_at(b))), queue);
  if (b.state == policy::BreakerState::half_open) out += "a probe task is running\n";
  return out;
}

}  // namespace oos::app
