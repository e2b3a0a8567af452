#include <fmt/format.h>
#include <sqlite3.h>

#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "api/list_routes.hpp"
#include "api/problem.hpp"
#include "api/router.hpp"
#include "app/output.hpp"
#include "metrics/queue_metrics.hpp"
#include "store/sqlite_backend.hpp"
#include "store_fixture.hpp"
#include "util/json.hpp"
#include "util/time.hpp"

using namespace oos;
using nlohmann::json;
using oos::test::StoreFixture;

namespace {

// The router over the fixture's database, as oos-api builds it.
struct RouterFixture : StoreFixture {
  store::SqliteBackend backend{*db, config, clock, *logger};
  // A router with `admin_token` as the admin token (none: only GET from loopback).
  api::Router router_with(std::optional<std::string> admin_token) {
    return api::Router{{backend,
                        config,
                        clock,
                        *logger,
                        dir.path(),
                        dir / "backups",
                        {std::move(admin_token), std::nullopt, api::default_allowed_hosts("127.0.0.1:8765")}}};
  }

  api::Router router = router_with(std::nullopt);

  api::Response get(const std::string& path, std::map<std::string, std::string> query = {}) {
    return router.handle({"GET", path, std::move(query), {}, "", true});
  }
};

std::string header(const api::Response& r, const std::string& name) {
  for (const auto& [n, v] : r.headers)
    if (n == name) return v;
  return "";
}

json body(const api::Response& r) {
  return json::parse(r.body);
}

// `text` with its %XX escapes decoded.
std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// The request a `Link: <PATH?QUERY>; rel="next"` header names, as HttpServer would decode it.
api::Request request_of_link(const std::string& link) {
  BOOST_REQUIRE(link.starts_with('<'));
  BOOST_REQUIRE(link.ends_with(">; rel=\"next\""));
  auto target = std::string_view(link).substr(1, link.find('>') - 1);
  auto question = target.find('?');
  api::Request r{"GET", percent_decode(target.substr(0, question)), {}, {}, "", true};
  if (question == std::string_view::npos) return r;
  auto query = target.substr(question + 1);
  while (!query.empty()) {
    auto pair = query.substr(0, query.find('&'));
    auto equals = pair.find('=');
    r.query[percent_decode(pair.substr(0, equals))] = percent_decode(pair.substr(equals + 1));
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
  }
  return r;
}

// Every page of a listing from `first` on, following the Link headers: the ids in the order served.
std::vector<queue::TaskId> walk(api::Router& router, api::Request first, int* pages = nullptr) {
  std::vector<queue::TaskId> ids;
  auto request = std::move(first);
  for (int page = 1;; ++page) {
    auto reply = router.handle(request);
    BOOST_REQUIRE_MESSAGE(reply.status == 200, reply.body);
    for (const auto& task : json::parse(reply.body)) ids.push_back(task["id"].get<queue::TaskId>());
    if (pages) *pages = page;
    auto link = header(reply, "Link");
    if (link.empty()) return ids;
    BOOST_REQUIRE(page < 100);
    request = request_of_link(link);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_router)

BOOST_AUTO_TEST_CASE(exit_codes_map_to_http_statuses) {
  struct Case {
    ExitCode code;
    int status;
  };
  for (auto [code, status] :
       {Case{ExitCode::usage, 400}, Case{ExitCode::data_error, 400}, Case{ExitCode::no_input, 404},
        Case{ExitCode::problem_reported, 409}, Case{ExitCode::problem_unfixed, 409}, Case{ExitCode::unavailable, 503},
        Case{ExitCode::temp_fail, 503}, Case{ExitCode::io_error, 500}, Case{ExitCode::software, 500},
        Case{ExitCode::config, 500}})
    BOOST_TEST(api::http_status(code) == status, "exit code " << static_cast<int>(code));
}

BOOST_AUTO_TEST_CASE(a_problem_is_rfc_9457_json) {
  auto reply = api::problem(404, "task 7 not found");
  BOOST_TEST(reply.status == 404);
  BOOST_TEST(header(reply, "Content-Type") == "application/problem+json");
  BOOST_TEST(body(reply) ==
             (json{{"type", "about:blank"}, {"title", "Not Found"}, {"status", 404}, {"detail", "task 7 not found"}}));
}

BOOST_FIXTURE_TEST_CASE(queue_status_is_the_clis_status_document, RouterFixture) {
  add("mail");
  auto reply = get("/api/v1/queue/status");
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(header(reply, "Content-Type") == "application/json");
  BOOST_TEST(reply.body == app::dump(app::status_document(queues.status(clock.now()), clock.now())) + "\n");
}

// A configured key ring whose every key cools down: the status says until when its handlers' tasks wait, and the
// health document shows its keys by fingerprint (docs/reference.md sections 9.2 and 9.8).
BOOST_FIXTURE_TEST_CASE(status_and_health_name_a_configured_ring_whose_every_key_cools_down, RouterFixture) {
  config.handlers["llm"].command = {"/bin/true"};
  config.handlers["llm"].key_rings = {"OPENROUTER_KEYS"};
  auto& rings = backend.key_rings();
  rings.pick("OPENROUTER_KEYS", {"fa", "fb"}, clock.now());
  rings.cool_down("OPENROUTER_KEYS", "fa", clock.now() + 60'000);
  BOOST_TEST(body(get("/api/v1/queue/status"))["cooling_key_rings"] == json::array());
  rings.cool_down("OPENROUTER_KEYS", "fb", clock.now() + 30'000);
  auto until = util::format_iso8601(clock.now() + 30'000);
  BOOST_TEST(body(get("/api/v1/queue/status"))["cooling_key_rings"] ==
             json::parse(R"([{"ring": "OPENROUTER_KEYS", "until": ")" + until + R"(", "handlers": ["llm"]}])"));
  auto health = body(get("/health"));
  BOOST_TEST_REQUIRE(health["key_rings"].size() == 1u, health.dump());
  BOOST_TEST(health["key_rings"][0]["keys"][1] == json::parse(R"({"fingerprint": "fb", "available": false,
      "cooldown_until": ")" + until + R"(", "uses_today": 0, "last_used_at": null})"));
  BOOST_TEST(health["checks"].back()["name"] == "key ring OPENROUTER_KEYS");
  BOOST_TEST(health["checks"].back()["status"] == "WARNING");
}

BOOST_FIXTURE_TEST_CASE(every_reply_carries_the_security_headers, RouterFixture) {
  for (const auto* path : {"/api/v1/queue/status", "/nowhere", "/api/v1/tasks/99"}) {
    auto reply = get(path);
    BOOST_TEST(header(reply, "X-Content-Type-Options") == "nosniff", path);
    BOOST_TEST(header(reply, "Cache-Control") == "no-store", path);
    BOOST_TEST(header(reply, "Content-Security-Policy") == "default-src 'self'", path);
  }
}

BOOST_FIXTURE_TEST_CASE(a_task_is_the_clis_show_document, RouterFixture) {
  auto id = add("mail");
  auto reply = get("/api/v1/tasks/" + std::to_string(id));
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(reply.body == app::dump(app::task_document(*tasks.find(id), {})) + "\n");
}

BOOST_FIXTURE_TEST_CASE(an_unknown_task_or_queue_is_404_with_the_clis_message, RouterFixture) {
  add("mail");
  auto reply = get("/api/v1/tasks/42");
  BOOST_TEST(reply.status == 404);
  BOOST_TEST(body(reply)["detail"] == "task 42 not found");
  BOOST_TEST(get("/api/v1/tasks/abc").status == 404);
  BOOST_TEST(get("/api/v1/tasks/-1").status == 404);
  for (const auto* what : {"stats", "dead-letter", "circuit-breaker"}) {
    reply = get(std::string("/api/v1/queue/nope/") + what);
    BOOST_TEST(reply.status == 404, what);
    BOOST_TEST(body(reply)["detail"] == "queue 'nope' not found: it has no tasks and no [queues.nope] settings", what);
  }
}

BOOST_FIXTURE_TEST_CASE(stats_and_breaker_are_the_clis_documents, RouterFixture) {
  add("mail");
  auto now = clock.now();
  BOOST_TEST(get("/api/v1/queue/mail/stats").body == app::dump(app::to_json(*queues.stats("mail", now), now)) + "\n");
  BOOST_TEST(get("/api/v1/queue/mail/circuit-breaker").body ==
             app::dump(app::breaker_document("mail", queues.breakers().load("queue", "mail"))) + "\n");
}

BOOST_FIXTURE_TEST_CASE(the_dead_letter_queue_is_an_array_of_the_clis_lines, RouterFixture) {
  const std::array<std::string, 1> mail{"mail"};
  add("mail");
  add("mail");
  add("other");
  for (int i = 0; i < 2; ++i) {
    auto claimed = tasks.claim(mail, "w");
    tasks.fail(claimed->lease, {policy::FailureKind::permanent, "boom", 1});
  }
  auto reply = get("/api/v1/queue/mail/dead-letter");
  BOOST_TEST(reply.status == 200);
  auto list = body(reply);
  BOOST_REQUIRE(list.is_array());
  BOOST_REQUIRE(list.size() == 2u);
  auto dead = tasks.list_dead({"mail", std::nullopt, std::nullopt}, 100);
  for (std::size_t i = 0; i < dead.size(); ++i) BOOST_TEST(list[i] == app::to_json(dead[i]));
  BOOST_TEST(body(get("/api/v1/queue/mail/dead-letter", {{"limit", "1"}})).size() == 1u);
  BOOST_TEST(get("/api/v1/queue/other/dead-letter").body == "[]\n");
  reply = get("/api/v1/queue/mail/dead-letter", {{"limit", "0"}});
  BOOST_TEST(reply.status == 400);
  BOOST_TEST(body(reply)["detail"] == "limit: '0' is not a number from 1 to 1000000");
}

BOOST_FIXTURE_TEST_CASE(unknown_paths_are_404_and_other_methods_405, RouterFixture) {
  for (const auto* path : {"/api", "/api/v1", "/api/v1/queue", "/api/v2/queue/status", "/api/v1/queue/status/",
                           "/api/v1/queue/mail/nothing", "/health/x"})
    BOOST_TEST(get(path).status == 404, path);
  BOOST_TEST(body(get("/nowhere"))["detail"] ==
             "no such resource: /nowhere: the API serves /health and the /api/v1/ paths of docs/reference.md section "
             "8.10");
  // A write needs the admin token before its method is even looked at.
  BOOST_TEST(router.handle({"DELETE", "/api/v1/queue/status", {}, {}, "", true}).status == 403);
  auto admin = router_with("admin-token-123456");
  auto reply =
      admin.handle({"DELETE", "/api/v1/queue/status", {}, {{"authorization", "Bearer admin-token-123456"}}, "", true});
  BOOST_TEST(reply.status == 405);
  BOOST_TEST(header(reply, "Allow") == "GET, HEAD");
  BOOST_TEST(router.handle({"HEAD", "/api/v1/queue/status", {}, {}, "", true}).status == 200);
}

BOOST_FIXTURE_TEST_CASE(health_is_the_oos_health_document_and_503_when_critical, RouterFixture) {
  auto reply = get("/health");
  auto doc = body(reply);
  BOOST_TEST(doc.contains("checks"));
  BOOST_TEST(doc.contains("summary"));
  auto status = doc["status"].get<std::string>();
  BOOST_TEST(reply.status == (status == "OK" || status == "WARNING" ? 200 : 503));
  // No worker while a task of worker.queues is runnable: CRITICAL.
  add();
  reply = get("/health");
  BOOST_TEST(body(reply)["status"] == "CRITICAL", reply.body);
  BOOST_TEST(reply.status == 503);
}

BOOST_FIXTURE_TEST_CASE(a_refused_request_is_not_routed_and_carries_the_headers, RouterFixture) {
  auto guarded = router_with("admin-token-123456");
  auto reply = guarded.handle({"GET", "/api/v1/tasks/1", {}, {}, "", true});
  BOOST_TEST(reply.status == 401);
  BOOST_TEST(header(reply, "Cache-Control") == "no-store");
  reply = guarded.handle({"GET", "/api/v1/tasks/1", {}, {{"authorization", "Bearer admin-token-123456"}}, "", true});
  BOOST_TEST(reply.status == 404);
}

BOOST_FIXTURE_TEST_CASE(a_write_is_recorded_with_the_role_and_a_refused_body_writes_nothing, RouterFixture) {
  auto admin = router_with("admin-token-123456");
  std::map<std::string, std::string> headers{{"authorization", "Bearer admin-token-123456"}, {"idempotency-key", "k1"}};
  auto reply =
      admin.handle({"POST", "/api/v1/queue/mail/tasks", {}, headers, R"({"type":"t","unique_key":"k2"})", true});
  BOOST_TEST(reply.status == 400);
  BOOST_TEST(body(reply)["detail"] == "Idempotency-Key and unique_key differ: give one of them");
  reply = admin.handle({"POST", "/api/v1/queue/a b/tasks", {}, headers, R"({"type":"t"})", true});
  BOOST_TEST(reply.status == 400);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'api.write'") == 0);
  reply = admin.handle({"POST", "/api/v1/queue/mail/tasks", {}, headers, R"({"type":"t"})", true});
  BOOST_TEST(reply.status == 201);
  BOOST_TEST(sql_text("SELECT unique_key FROM tasks") == "k1");
  BOOST_TEST(sql_text("SELECT detail FROM events WHERE kind = 'api.write'") == "POST by admin token: 201");
  BOOST_TEST(sql_text("SELECT object FROM events WHERE kind = 'api.write'") == "/api/v1/queue/mail/tasks");
}

// The body is parsed once: its depth is bounded on the text, one level more for an array of tasks than for one.
BOOST_FIXTURE_TEST_CASE(a_posted_payload_nested_past_the_limit_is_400, RouterFixture) {
  auto admin = router_with("admin-token-123456");
  auto post = [&](const std::string& text) {
    return admin.handle(
        {"POST", "/api/v1/queue/mail/tasks", {}, {{"authorization", "Bearer admin-token-123456"}}, text, true});
  };
  auto nested = [](std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  auto deepest = nested(util::k_max_json_depth);
  auto too_deep = nested(util::k_max_json_depth + 1);
  BOOST_TEST(post(R"({"type":"t","data":)" + deepest + "}").status == 201);
  BOOST_TEST(post(R"([{"type":"t","data":)" + deepest + "}]").status == 201);
  for (const auto& text : {R"({"type":"t","data":)" + too_deep + "}", R"( [{"type":"t","data":)" + too_deep + "}]"}) {
    auto reply = post(text);
    BOOST_TEST(reply.status == 400);
    BOOST_TEST(body(reply)["detail"] ==
               fmt::format("the body: payload is nested deeper than {} levels", util::k_max_json_depth));
  }
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 2);
}

// The write and its event commit together: when the event cannot be written, nothing is (a client may repeat it).
BOOST_FIXTURE_TEST_CASE(a_write_whose_event_cannot_be_recorded_changes_nothing, RouterFixture) {
  db->raw().exec(
      "CREATE TRIGGER no_api_events BEFORE INSERT ON events WHEN NEW.kind = 'api.write' "
      "BEGIN SELECT RAISE(ABORT, 'no room for events'); END");
  auto admin = router_with("admin-token-123456");
  auto reply = admin.handle({"POST",
                             "/api/v1/queue/mail/tasks",
                             {},
                             {{"authorization", "Bearer admin-token-123456"}},
                             R"({"type":"t"})",
                             true});
  BOOST_TEST(reply.status >= 500, reply.body);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'api.write'") == 0);
  db->raw().exec("DROP TRIGGER no_api_events");
  reply = admin.handle({"POST",
                        "/api/v1/queue/mail/tasks",
                        {},
                        {{"authorization", "Bearer admin-token-123456"}},
                        R"({"type":"t"})",
                        true});
  BOOST_TEST(reply.status == 201, reply.body);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 1);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'api.write'") == 1);
}

// A dry run changes nothing, so it is no write to record.
BOOST_FIXTURE_TEST_CASE(a_dry_run_is_not_recorded_as_a_write, RouterFixture) {
  auto admin = router_with("admin-token-123456");
  auto reply = admin.handle({"POST",
                             "/api/v1/queue/mail/dead-letter/retry",
                             {{"dry_run", "true"}},
                             {{"authorization", "Bearer admin-token-123456"}},
                             "{}",
                             true});
  BOOST_TEST(reply.status < 500, reply.body);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'api.write'") == 0);
}

BOOST_AUTO_TEST_CASE(a_cursor_is_a_whole_number_from_1_and_anything_else_is_a_usage_error) {
  BOOST_TEST(api::parse_cursor("17") == 17);
  BOOST_TEST(api::parse_cursor("9223372036854775807") == 9223372036854775807);
  for (const auto* bad : {"", "0", "-3", "abc", "12x", " 5", "9223372036854775808", "1.5"}) {
    try {
      api::parse_cursor(bad);
      BOOST_ERROR("accepted the cursor '" << bad << "'");
    } catch (const Error& e) {
      BOOST_TEST(e.code() == ExitCode::usage, bad);
      BOOST_TEST(std::string(e.what()).starts_with(fmt::format("cursor: '{}' is not a cursor of this listing", bad)),
                 e.what());
    }
  }
}

BOOST_AUTO_TEST_CASE(the_next_link_keeps_every_parameter_encoded_and_replaces_the_cursor) {
  BOOST_TEST(api::next_link("/api/v1/queue/mail/tasks", {}, 42) ==
             "</api/v1/queue/mail/tasks?cursor=42>; rel=\"next\"");
  BOOST_TEST(api::next_link("/api/v1/queue/q:1/dead-letter",
                            {{"cursor", "90"}, {"error", "smtp 550 & <x>;"}, {"limit", "2"}, {"type", "send"}}, 7) ==
             "</api/v1/queue/q:1/dead-letter?cursor=7&error=smtp%20550%20%26%20%3Cx%3E%3B&limit=2&type=send>; "
             "rel=\"next\"");
  BOOST_TEST(api::percent_encode("a/b c~\xff", "/") == "a/b%20c~%FF");
}

BOOST_FIXTURE_TEST_CASE(the_tasks_of_a_queue_are_the_clis_list_lines_a_page_at_a_time, RouterFixture) {
  for (int i = 0; i < 7; ++i) add(i == 3 ? "other" : "mail");
  const std::array<std::string, 1> mail{"mail"};
  BOOST_REQUIRE(tasks.claim(mail, "w"));  // task 1 running
  auto reply = get("/api/v1/queue/mail/tasks");
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(header(reply, "Content-Type") == "application/json");
  BOOST_TEST(header(reply, "Link") == "");
  auto all = tasks.list("mail", std::nullopt, 50);
  auto expected = json::array();
  for (const auto& t : all) expected.push_back(app::to_json(t));
  BOOST_TEST(body(reply) == expected);
  BOOST_TEST(all.size() == 6u);

  // Two at a time: every task once, newest first; a task enqueued during the walk (a newer id) does not disturb it.
  reply = get("/api/v1/queue/mail/tasks", {{"limit", "2"}});
  BOOST_TEST(body(reply).size() == 2u);
  BOOST_TEST(header(reply, "Link") == "</api/v1/queue/mail/tasks?cursor=6&limit=2>; rel=\"next\"");
  add("mail");
  int pages = 0;
  auto ids = walk(router, request_of_link(header(reply, "Link")), &pages);
  BOOST_TEST(pages == 2);
  BOOST_TEST(ids == (std::vector<queue::TaskId>{5, 3, 2, 1}));
  BOOST_TEST(walk(router, {"GET", "/api/v1/queue/mail/tasks", {{"limit", "3"}}, {}, "", true}) ==
             (std::vector<queue::TaskId>{8, 7, 6, 5, 3, 2, 1}));

  // ?status= keeps its value in the links; a page of exactly the rest has no link.
  BOOST_TEST(walk(router, {"GET", "/api/v1/queue/mail/tasks", {{"limit", "1"}, {"status", "pending"}}, {}, "", true},
                  &pages) == (std::vector<queue::TaskId>{8, 7, 6, 5, 3, 2}));
  BOOST_TEST(pages == 6);
  BOOST_TEST(walk(router, {"GET", "/api/v1/queue/mail/tasks", {{"status", "running"}}, {}, "", true}) ==
             (std::vector<queue::TaskId>{1}));
  BOOST_TEST(header(get("/api/v1/queue/mail/tasks", {{"limit", "7"}}), "Link") == "");
}

namespace {

// SQLite's plan for each statement the connection holds prepared (the store's cache) whose SQL contains `needle`.
std::vector<std::string> plans_of(db::Database& db, std::string_view needle) {
  std::vector<std::string> sqls;
  auto* handle = db.raw().getHandle();
  for (auto* stmt = sqlite3_next_stmt(handle, nullptr); stmt; stmt = sqlite3_next_stmt(handle, stmt))
    if (std::string sql = sqlite3_sql(stmt); sql.find(needle) != std::string::npos) sqls.push_back(sql);
  std::vector<std::string> plans;
  for (const auto& sql : sqls) {
    SQLite::Statement q(db.raw(), "EXPLAIN QUERY PLAN " + sql);
    std::string plan;
    while (q.executeStep()) plan += q.getColumn(3).getString() + ";";
    plans.push_back(plan);
  }
  return plans;
}

}  // namespace

// A page costs the rows between its cursor and its end, not the rows before it: the plan walks the rowid down
// from the cursor (a bound that may be NULL, `? IS NULL OR id < ?`, makes it a scan of the whole table).
BOOST_FIXTURE_TEST_CASE(a_page_is_a_rowid_range_search_from_its_cursor, RouterFixture) {
  add("mail");
  BOOST_TEST(get("/api/v1/queue/mail/tasks", {{"cursor", "5"}, {"status", "pending"}}).status == 200);
  BOOST_TEST(get("/api/v1/queue/mail/dead-letter", {{"cursor", "5"}, {"type", "job"}}).status == 200);
  auto plans = plans_of(*db, "ORDER BY id DESC");
  BOOST_TEST(plans.size() == 2u);
  for (const auto& plan : plans) BOOST_TEST(plan == "SEARCH tasks USING INTEGER PRIMARY KEY (rowid<?);");
}

BOOST_FIXTURE_TEST_CASE(the_task_list_has_the_clis_default_limit_of_50, RouterFixture) {
  for (int i = 0; i < 51; ++i) add("mail");
  auto reply = get("/api/v1/queue/mail/tasks");
  BOOST_TEST(body(reply).size() == 50u);
  BOOST_TEST(header(reply, "Link") == "</api/v1/queue/mail/tasks?cursor=2>; rel=\"next\"");
  BOOST_TEST(body(get("/api/v1/queue/mail/tasks", {{"limit", "2147483647"}})).size() == 51u);
}

BOOST_FIXTURE_TEST_CASE(bad_list_parameters_are_400_and_unknown_queues_404, RouterFixture) {
  add("mail");
  struct Case {
    std::string path;
    std::map<std::string, std::string> query;
    std::string detail;
  };
  for (const auto& c : std::vector<Case>{
           {"/api/v1/queue/mail/tasks",
            {{"status", "done"}},
            "status: done not in {pending,running,succeeded,dead,cancelled}"},
           {"/api/v1/queue/mail/tasks", {{"limit", "0"}}, "limit: '0' is not a number from 1 to 2147483647"},
           {"/api/v1/queue/mail/tasks",
            {{"limit", "2147483648"}},
            "limit: '2147483648' is not a number from 1 to 2147483647"},
           {"/api/v1/queue/mail/tasks",
            {{"cursor", "x"}},
            "cursor: 'x' is not a cursor of this listing: follow the Link header of the page before, or leave cursor "
            "out for the first page"},
           {"/api/v1/queue/mail/dead-letter",
            {{"cursor", "-1"}},
            "cursor: '-1' is not a cursor of this listing: follow the Link header of the page before, or leave cursor "
            "out for the first page"},
           {"/api/v1/queue/mail/dead-letter",
            {{"type", "a b"}},
            "invalid type name 'a b': use 1-64 letters, digits, '_', '-', '.' or ':'"},
           {"/api/v1/queue/mail/dead-letter",
            {{"limit", "1000001"}},
            "limit: '1000001' is not a number from 1 to 1000000"},
       }) {
    auto reply = get(c.path, c.query);
    BOOST_TEST(reply.status == 400, c.path << " " << c.query.begin()->first);
    BOOST_TEST(body(reply)["detail"] == c.detail);
  }
  auto reply = get("/api/v1/queue/nope/tasks");
  BOOST_TEST(reply.status == 404);
  BOOST_TEST(body(reply)["detail"] == "queue 'nope' not found: it has no tasks and no [queues.nope] settings");
  auto admin = router_with("admin-token-123456");
  reply = admin.handle(
      {"DELETE", "/api/v1/queue/mail/tasks", {}, {{"authorization", "Bearer admin-token-123456"}}, "", true});
  BOOST_TEST(reply.status == 405);
  BOOST_TEST(header(reply, "Allow") == "GET, HEAD, POST");
}

namespace {

// Fails task `id` of `queue` for good with `error`.
void kill_task(queue::TaskStore& tasks, const std::string& queue_name, const std::string& error) {
  const std::array<std::string, 1> queues{queue_name};
  auto claimed = tasks.claim(queues, "w");
  BOOST_REQUIRE(claimed);
  tasks.fail(claimed->lease, {policy::FailureKind::permanent, error, 1});
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(the_dead_letter_queue_is_filtered_by_type_and_error_and_paginated, RouterFixture) {
  for (const auto* type : {"send", "send", "fetch", "send"}) {
    queue::NewTask task;
    task.queue = "mail";
    task.type = type;
    tasks.enqueue(task);
  }
  for (const auto* error : {"smtp 550 refused", "SMTP 550 refused", "smtp 550 refused", "timeout"})
    kill_task(tasks, "mail", error);
  auto ids_of = [&](std::map<std::string, std::string> query) {
    std::vector<queue::TaskId> ids;
    for (const auto& t : body(get("/api/v1/queue/mail/dead-letter", std::move(query)))) ids.push_back(t["id"]);
    return ids;
  };
  BOOST_TEST(ids_of({}) == (std::vector<queue::TaskId>{4, 3, 2, 1}));
  BOOST_TEST(ids_of({{"type", "send"}}) == (std::vector<queue::TaskId>{4, 2, 1}));
  BOOST_TEST(ids_of({{"error", "smtp 550"}}) == (std::vector<queue::TaskId>{3, 1}));  // case-sensitive
  BOOST_TEST(ids_of({{"error", "smtp 550"}, {"type", "send"}}) == (std::vector<queue::TaskId>{1}));
  auto expected = json::array();
  for (const auto& t : tasks.list_dead({"mail", "send", "550"}, 100)) expected.push_back(app::to_json(t));
  BOOST_TEST(body(get("/api/v1/queue/mail/dead-letter", {{"type", "send"}, {"error", "550"}})) == expected);
  auto reply = get("/api/v1/queue/mail/dead-letter", {{"type", "send"}, {"limit", "1"}});
  BOOST_TEST(header(reply, "Link") == "</api/v1/queue/mail/dead-letter?cursor=4&limit=1&type=send>; rel=\"next\"");
  BOOST_TEST(
      walk(router, {"GET", "/api/v1/queue/mail/dead-letter", {{"limit", "1"}, {"type", "send"}}, {}, "", true}) ==
      (std::vector<queue::TaskId>{4, 2, 1}));
}

namespace {

api::Request bulk_retry(const std::string& body, std::map<std::string, std::string> query = {}) {
  return {"POST",
          "/api/v1/queue/mail/dead-letter/retry",
          std::move(query),
          {{"authorization", "Bearer admin-token-123456"}},
          body,
          true};
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(bulk_retry_requeues_the_dead_tasks_the_body_selects, RouterFixture) {
  for (int i = 0; i < 3; ++i) add("mail");
  add("other");
  for (const auto* error : {"smtp 550", "timeout", "smtp 550"}) kill_task(tasks, "mail", error);
  kill_task(tasks, "other", "smtp 550");
  auto admin = router_with("admin-token-123456");

  auto reply = admin.handle(bulk_retry(R"({"error":"smtp"})", {{"dry_run", "true"}}));
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(reply.body == app::dump(app::requeued_document({3, 1}, true)) + "\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'dead'") == 4);

  reply = admin.handle(bulk_retry(R"({"error":"smtp","type":"job"})"));
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(reply.body == app::dump(app::requeued_document({3, 1}, false)) + "\n");
  BOOST_TEST(sql_text("SELECT group_concat(id) FROM tasks WHERE status = 'pending' ORDER BY id") == "1,3");

  reply = admin.handle(bulk_retry(R"({"type":"other-type"})"));  // nothing matches: the CLI's empty document
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(body(reply) == json::parse(R"({"requeued":[],"dry_run":false})"));
  reply = admin.handle(bulk_retry(""));  // every dead task of the queue, not of the others
  BOOST_TEST(body(reply) == json::parse(R"({"requeued":[2],"dry_run":false})"));
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE queue = 'other'") == "dead");
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'task.requeue'") == 3);
}

BOOST_FIXTURE_TEST_CASE(a_bad_bulk_retry_is_400_and_a_refused_one_409_changing_nothing, RouterFixture) {
  for (int i = 0; i < 2; ++i) {
    queue::NewTask task;
    task.queue = "mail";
    task.type = "job";
    task.unique_key = "k";
    tasks.enqueue(task);
    kill_task(tasks, "mail", "boom");
  }
  auto admin = router_with("admin-token-123456");
  for (const auto* bad : {R"({"queue":"other"})", R"({"type":7})", R"([])", R"({"type":"a b"})", R"({"error":null})",
                          R"({"type":)", "\"x\""}) {
    auto reply = admin.handle(bulk_retry(bad));
    BOOST_TEST(reply.status == 400, bad);
    BOOST_TEST(header(reply, "Content-Type") == "application/problem+json", bad);
  }
  BOOST_TEST(body(admin.handle(bulk_retry(R"({"queue":"other"})")))["detail"] ==
             "the body: unknown field 'queue': only type and error");
  BOOST_TEST(body(admin.handle(bulk_retry("{}", {{"dry_run", "yes"}})))["detail"] ==
             "dry_run: 'yes' is not true or false");
  BOOST_TEST(admin.handle(bulk_retry("{}", {{"dry_run", "yes"}})).status == 400);

  // Both hold the unique key "k": requeued together they would break the one active task per key. Refused whole.
  auto before = sql_text("SELECT group_concat(id || status || attempts || replays) FROM tasks");
  for (const auto* dry : {"false", "true"}) {
    auto reply = admin.handle(bulk_retry("{}", {{"dry_run", dry}}));
    BOOST_TEST(reply.status == 409, dry);
    BOOST_TEST(std::string(body(reply)["detail"]).find("nothing is requeued") != std::string::npos, reply.body);
  }
  BOOST_TEST(sql_text("SELECT group_concat(id || status || attempts || replays) FROM tasks") == before);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'task.requeue' OR kind = 'api.write'") == 0);

  auto reply = admin.handle(
      {"POST", "/api/v1/queue/nope/dead-letter/retry", {}, {{"authorization", "Bearer admin-token-123456"}}, "", true});
  BOOST_TEST(reply.status == 404);
  BOOST_TEST(router.handle({"POST", "/api/v1/queue/mail/dead-letter/retry", {}, {}, "", true}).status == 403);
  reply = admin.handle(
      {"GET", "/api/v1/queue/mail/dead-letter/retry", {}, {{"authorization", "Bearer admin-token-123456"}}, "", true});
  BOOST_TEST(reply.status == 405);
  BOOST_TEST(header(reply, "Allow") == "POST");
}

BOOST_FIXTURE_TEST_CASE(metrics_are_the_text_of_oos_queue_metrics, RouterFixture) {
  add("mail");
  kill_task(tasks, "mail", "boom");
  auto reply = get("/metrics");
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(header(reply, "Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  BOOST_TEST(reply.body == metrics::queue_metrics(*db, config, *logger, clock.now()).text());
  BOOST_TEST(reply.body.find("oos_queue_dead_letter_tasks 1") != std::string::npos, reply.body);
  auto guarded = router_with("admin-token-123456");
  BOOST_TEST(guarded.handle({"GET", "/metrics", {}, {}, "", true}).status == 401);
  BOOST_TEST(router.handle({"GET", "/metrics", {}, {}, "", false}).status == 403);
}

BOOST_AUTO_TEST_SUITE_END()
