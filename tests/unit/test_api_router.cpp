#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "api/problem.hpp"
#include "api/router.hpp"
#include "app/output.hpp"
#include "store_fixture.hpp"

using namespace oos;
using nlohmann::json;
using oos::test::StoreFixture;

namespace {

// The router over the fixture's database, as oos-api builds it.
struct RouterFixture : StoreFixture {
  // A router with `admin_token` as the admin token (none: only GET from loopback).
  api::Router router_with(std::optional<std::string> admin_token) {
    return api::Router{{*db,
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

// The task is committed before the event is written: a failed event must not make the client repeat the write.
BOOST_FIXTURE_TEST_CASE(a_write_whose_event_cannot_be_recorded_still_answers_its_success, RouterFixture) {
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
  BOOST_TEST(reply.status == 201, reply.body);
  BOOST_TEST(body(reply)["created"] == true);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 1);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'api.write'") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
