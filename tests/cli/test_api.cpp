// oos-api as a process on a free loopback port, spoken to over real HTTP (libcurl): every endpoint, its
// errors, and the bodies compared with the CLI's --json output.
#include <curl/curl.h>
#include <signal.h>

#include <boost/test/unit_test.hpp>

#include <cctype>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/api_support.hpp"

using nlohmann::json;
using oos::test::ApiFixture;
using oos::test::BackgroundProcess;
using oos::test::cli_message;
using oos::test::CliFixture;
using oos::test::eventually;
using oos::test::http;
using oos::test::HttpReply;
using oos::test::k_admin;
using oos::test::lines_array;
using oos::test::scaled;

BOOST_AUTO_TEST_SUITE(api)

// Not runnable (delayed) and dead tasks only: no document holds an age that moves between two calls.
BOOST_FIXTURE_TEST_CASE(every_read_endpoint_serves_the_clis_json_document, ApiFixture) {
  auto id = enqueue("mail", "send", {"--data", R"({"to":"a@example.org"})", "--delay", "1h"});
  enqueue("mail", "send");
  enqueue("mail", "send");
  sql_exec(
      "UPDATE tasks SET status = 'dead', attempts = 1, last_error = 'smtp 550', finished_at = created_at "
      "WHERE id > 1");
  start_api();

  auto status = get("/api/v1/queue/status");
  BOOST_TEST(status.status == 200);
  BOOST_TEST(status.headers["content-type"] == "application/json");
  BOOST_TEST(status.body == queue({"status", "--json"}).out);
  BOOST_TEST(get("/api/v1/queue/mail/stats").body == queue({"stats", "mail", "--json"}).out);
  BOOST_TEST(get("/api/v1/tasks/" + std::to_string(id)).body == queue({"show", std::to_string(id), "--json"}).out);
  BOOST_TEST(get("/api/v1/queue/mail/circuit-breaker").body == queue({"breaker", "mail", "--json"}).out);
  auto dead = get("/api/v1/queue/mail/dead-letter");
  BOOST_TEST(dead.status == 200);
  BOOST_TEST(json::parse(dead.body) == lines_array(retry({"list", "--queue", "mail", "--json"}).out));
  BOOST_TEST(json::parse(dead.body).size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(health_serves_the_oos_health_document_without_auth, ApiFixture) {
  enqueue("default", "send");  // runnable in worker.queues with no worker: CRITICAL
  start_api();
  auto reply = get("/health");
  BOOST_TEST(reply.status == 503);
  auto doc = json::parse(reply.body);
  auto cli = json::parse(health({"--json"}).out);
  BOOST_TEST(doc["status"] == "CRITICAL");
  BOOST_TEST(doc["status"] == cli["status"]);
  BOOST_TEST(doc["exit_code"] == cli["exit_code"]);
  BOOST_TEST(doc["checks"].size() == cli["checks"].size());
  for (std::size_t i = 0; i < doc["checks"].size(); ++i) {
    BOOST_TEST(doc["checks"][i]["name"] == cli["checks"][i]["name"]);
    BOOST_TEST(doc["checks"][i]["status"] == cli["checks"][i]["status"]);
  }
}

BOOST_FIXTURE_TEST_CASE(unknown_queues_and_tasks_are_404_problems_with_the_clis_wording, ApiFixture) {
  enqueue("mail", "send");
  start_api();
  auto reply = get("/api/v1/queue/nope/stats");
  BOOST_TEST(reply.status == 404);
  BOOST_TEST(reply.headers["content-type"] == "application/problem+json");
  auto problem = json::parse(reply.body);
  BOOST_TEST(problem["type"] == "about:blank");
  BOOST_TEST(problem["title"] == "Not Found");
  BOOST_TEST(problem["status"] == 404);
  BOOST_TEST(problem["detail"] == cli_message(queue({"stats", "nope", "--json"}).err));
  for (const auto* path : {"/api/v1/queue/nope/dead-letter", "/api/v1/queue/nope/circuit-breaker"}) {
    reply = get(path);
    BOOST_TEST(reply.status == 404, path);
    BOOST_TEST(json::parse(reply.body)["detail"] == cli_message(queue({"breaker", "nope", "--json"}).err), path);
  }
  reply = get("/api/v1/tasks/99");
  BOOST_TEST(reply.status == 404);
  BOOST_TEST(json::parse(reply.body)["detail"] == cli_message(queue({"show", "99", "--json"}).err));
  BOOST_TEST(get("/api/v1/nothing").status == 404);
}

BOOST_FIXTURE_TEST_CASE(wrong_methods_bad_parameters_and_large_bodies_are_refused, ApiFixture) {
  write_config("[api]\nmax_body = \"1KB\"\n");
  enqueue("mail", "send");
  start_api({"OOS_API_TOKEN=admin-token-123456"});
  auto reply = http("DELETE", base + "/api/v1/queue/status", "", {k_admin});
  BOOST_TEST(reply.status == 405);
  BOOST_TEST(reply.headers["allow"] == "GET, HEAD");
  reply = http("GET", base + "/api/v1/queue/mail/dead-letter?limit=abc", "", {k_admin});
  BOOST_TEST(reply.status == 400);
  BOOST_TEST(json::parse(reply.body)["detail"] == "limit: 'abc' is not a number from 1 to 1000000");
  reply = http("POST", base + "/api/v1/queue/status", std::string(2048, 'x'));
  BOOST_TEST(reply.status == 413);
  BOOST_TEST(json::parse(reply.body)["status"] == 413);
  // A chunked body announces no length: it is kept up to the cap and refused at its end, nothing enqueued.
  const std::string chunked = "Transfer-Encoding: chunked";
  auto big = R"({"type":"t","data":")" + std::string(2048, 'x') + R"("})";
  reply = http("POST", base + "/api/v1/queue/mail/tasks", big, {k_admin, chunked});
  BOOST_TEST(reply.status == 413);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 1);
  reply = http("POST", base + "/api/v1/queue/mail/tasks", R"({"type":"t"})", {k_admin, chunked});
  BOOST_TEST(reply.status == 201);
  BOOST_TEST(http("HEAD", base + "/api/v1/queue/status", "", {k_admin}).status == 200);
}

BOOST_FIXTURE_TEST_CASE(every_reply_carries_the_security_headers, ApiFixture) {
  write_config("[api]\nmax_body = \"1KB\"\n");
  start_api();
  for (const auto& reply : {get("/api/v1/queue/status"), get("/health"), get("/nowhere"),
                            http("POST", base + "/api/v1/queue/status", std::string(2048, 'x'))}) {
    BOOST_TEST(reply.headers.at("x-content-type-options") == "nosniff");
    BOOST_TEST(reply.headers.at("cache-control") == "no-store");
    BOOST_TEST(reply.headers.at("content-security-policy") == "default-src 'self'");
  }
}

BOOST_FIXTURE_TEST_CASE(sigterm_stops_it_with_exit_0, ApiFixture) {
  start_api();
  BOOST_TEST(get("/api/v1/queue/status").status == 200);
  api->signal(SIGTERM);
  BOOST_TEST(api->wait(scaled(std::chrono::seconds(10))) == 0);
}

BOOST_FIXTURE_TEST_CASE(a_listen_address_without_a_port_is_a_usage_error, CliFixture) {
  auto r = run_tool("OOS_API_BIN", {"--listen", "127.0.0.1"});
  BOOST_TEST(r.exit_code == 64);
  BOOST_TEST(oos::test::is_one_error_line(r.err, "oos-api"), r.err);
  BOOST_TEST(r.err.find("has no port") != std::string::npos, r.err);
}

BOOST_FIXTURE_TEST_CASE(without_a_token_configured_loopback_may_read_but_not_write, ApiFixture) {
  start_api();
  BOOST_TEST(get("/api/v1/queue/status").status == 200);
  auto reply = http("POST", base + "/api/v1/queue/mail/pause");
  BOOST_TEST(reply.status == 403);
  BOOST_TEST(json::parse(reply.body)["detail"] ==
             "writes need the admin token, and none is configured: set the secret OOS_API_TOKEN and restart oos-api");
}

BOOST_FIXTURE_TEST_CASE(with_tokens_configured_every_request_but_health_needs_one, ApiFixture) {
  auto credentials = dir() / "credentials";
  std::filesystem::create_directories(credentials);
  { std::ofstream(credentials / "OOS_API_TOKEN") << "admin-token-123456\n"; }
  start_api({"CREDENTIALS_DIRECTORY=" + credentials.string(), "OOS_API_READONLY_TOKEN=reader-token-123456"});
  auto reply = get("/api/v1/queue/status");
  BOOST_TEST(reply.status == 401);
  BOOST_TEST(reply.headers["www-authenticate"] == "Bearer realm=\"oos\"");
  BOOST_TEST(http("GET", base + "/api/v1/queue/status", "", {"Authorization: Bearer nope"}).status == 401);
  BOOST_TEST(http("GET", base + "/api/v1/queue/status", "", {"Authorization: Bearer reader-token-123456"}).status ==
             200);
  BOOST_TEST(http("GET", base + "/api/v1/queue/status", "", {k_admin}).status == 200);
  reply = http("DELETE", base + "/api/v1/queue/status", "", {"Authorization: Bearer reader-token-123456"});
  BOOST_TEST(reply.status == 403);
  BOOST_TEST(json::parse(reply.body)["detail"] == "the read-only token cannot write: use OOS_API_TOKEN");
  BOOST_TEST(get("/health").status != 401);
}

BOOST_FIXTURE_TEST_CASE(a_host_header_outside_the_allowlist_is_421, ApiFixture) {
  start_api();
  auto reply = http("GET", base + "/api/v1/queue/status", "", {"Host: rebound.example"});
  BOOST_TEST(reply.status == 421);
  BOOST_TEST(json::parse(reply.body)["detail"] ==
             "host 'rebound.example' is not in the allowed hosts: use an address oos-api serves or add it to "
             "api.allowed_hosts");
  BOOST_TEST(http("GET", base + "/api/v1/queue/status", "", {"Host: localhost"}).status == 200);
}

BOOST_FIXTURE_TEST_CASE(posting_a_task_enqueues_it_once_per_idempotency_key, ApiFixture) {
  start_api({"OOS_API_TOKEN=admin-token-123456"});
  auto url = base + "/api/v1/queue/mail/tasks";
  auto reply = http("POST", url, R"({"type":"send","data":{"to":"a@example.org"},"priority":5})",
                    {k_admin, "Idempotency-Key: order-7"});
  BOOST_TEST(reply.status == 201);
  BOOST_TEST(reply.headers["location"] == "/api/v1/tasks/1");
  BOOST_TEST(json::parse(reply.body) == (json{{"id", 1}, {"created", true}, {"queue", "mail"}, {"type", "send"}}));
  BOOST_TEST(sql_text("SELECT payload FROM tasks WHERE id = 1") == R"({"to":"a@example.org"})");
  BOOST_TEST(sql_int("SELECT priority FROM tasks WHERE id = 1") == 5);
  // Again with the same key: the task that exists, 200, the CLI's document for the same case byte for byte.
  reply = http("POST", url, R"({"type":"send"})", {k_admin, "Idempotency-Key: order-7"});
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(reply.body == queue({"enqueue", "mail", "send", "--unique-key", "order-7", "--json"}).out);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 1);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'api.write' AND detail LIKE 'POST by admin token%'") ==
             2);
}

BOOST_FIXTURE_TEST_CASE(posting_an_array_enqueues_all_or_nothing, ApiFixture) {
  start_api({"OOS_API_TOKEN=admin-token-123456"});
  auto url = base + "/api/v1/queue/mail/tasks";
  auto reply = http("POST", url, R"([{"type":"a"},{"type":"b","delay":"1h"}])", {k_admin});
  BOOST_TEST(reply.status == 201);
  BOOST_TEST(json::parse(reply.body).size() == 2u);
  BOOST_TEST(json::parse(reply.body)[1]["type"] == "b");
  for (const auto* bad :
       {R"({"type":"a")", R"([{"type":"a"},{"type":"b c"}])", R"([])", R"("text")", R"({"type":"a","colour":"red"})"}) {
    reply = http("POST", url, bad, {k_admin});
    BOOST_TEST(reply.status == 400, bad);
    BOOST_TEST(reply.headers["content-type"] == "application/problem+json", bad);
  }
  BOOST_TEST(json::parse(http("POST", url, R"([{"type":"a"},{"type":"b c"}])", {k_admin}).body)["detail"] ==
             "item 2: invalid type name 'b c': use 1-64 letters, digits, '_', '-', '.' or ':'");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 2);  // nothing of the refused bodies
  BOOST_TEST(http("POST", url, R"([{"type":"a"}])", {k_admin, "Idempotency-Key: k"}).status == 400);
  BOOST_TEST(http("POST", url, R"({"type":"a"})", {"Authorization: Bearer reader"}).status == 401);
}

BOOST_FIXTURE_TEST_CASE(a_dead_task_is_retried_and_a_breaker_reset_as_the_cli_does, ApiFixture) {
  enqueue("mail", "send");
  enqueue("mail", "send");
  enqueue("mail", "send");
  sql_exec("UPDATE tasks SET status = 'dead', attempts = 3, last_error = 'x', finished_at = created_at");
  start_api({"OOS_API_TOKEN=admin-token-123456"});
  auto reply = http("POST", base + "/api/v1/queue/mail/dead-letter/1/retry", "", {k_admin});
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(json::parse(reply.body) == json::parse(R"({"requeued":[1],"dry_run":false})"));
  BOOST_TEST(json::parse(retry({"requeue", "2", "--json"}).out) == json::parse(R"({"requeued":[2],"dry_run":false})"));
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = 1") == "pending");
  reply = http("POST", base + "/api/v1/queue/mail/dead-letter/1/retry", "", {k_admin});
  BOOST_TEST(reply.status == 409);
  BOOST_TEST(json::parse(reply.body)["detail"] == cli_message(retry({"requeue", "1", "--json"}).err));
  BOOST_TEST(http("POST", base + "/api/v1/queue/other/dead-letter/3/retry", "", {k_admin}).status == 404);
  BOOST_TEST(http("POST", base + "/api/v1/queue/mail/dead-letter/99/retry", "", {k_admin}).status == 404);
  BOOST_TEST(http("GET", base + "/api/v1/queue/mail/dead-letter/3/retry", "", {k_admin}).status == 405);

  reply = http("POST", base + "/api/v1/queue/mail/circuit-breaker/reset", "", {k_admin});
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(reply.body == queue({"breaker", "mail", "--reset", "--json"}).out);
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'api.write'") == 2);
}

BOOST_FIXTURE_TEST_CASE(a_queue_is_paused_and_resumed_as_the_cli_does, ApiFixture) {
  enqueue("mail", "send");
  start_api({"OOS_API_TOKEN=admin-token-123456"});
  auto reply = http("POST", base + "/api/v1/queue/mail/pause", "", {k_admin});
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(json::parse(reply.body) == json::parse(R"({"queue":"mail","paused":true,"changed":true})"));
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'queue.pause'") == 1);
  // The second pause changes nothing, and the CLI says so in the same document.
  BOOST_TEST(http("POST", base + "/api/v1/queue/mail/pause", "", {k_admin}).body ==
             queue({"pause", "mail", "--json"}).out);
  reply = http("POST", base + "/api/v1/queue/mail/resume", "", {k_admin});
  BOOST_TEST(reply.body == R"({"changed":true,"paused":false,"queue":"mail"})"
                           "\n");
  BOOST_TEST(http("POST", base + "/api/v1/queue/mail/resume", "", {k_admin}).body ==
             queue({"resume", "mail", "--json"}).out);
  BOOST_TEST(http("POST", base + "/api/v1/queue/a%20b/pause", "", {k_admin}).status == 400);
  BOOST_TEST(http("GET", base + "/api/v1/queue/mail/pause", "", {k_admin}).status == 405);
}

namespace {

// The target of a reply's `Link: <TARGET>; rel="next"`, "" without one.
std::string next_of(const HttpReply& reply) {
  auto it = reply.headers.find("link");
  if (it == reply.headers.end()) return "";
  BOOST_TEST(it->second.ends_with(">; rel=\"next\""), it->second);
  return it->second.substr(1, it->second.find('>') - 1);
}

// Every row of the tasks table, to tell that a refused request changed nothing.
// Ordered by id, in a subquery as cli_support's group_concat for PostgreSQL needs (no parentheses inside).
const std::string k_all_tasks =
    "SELECT group_concat(r, ';') FROM (SELECT id || ',' || status || ',' || attempts || ',' || replays || ',' || "
    "run_at || ',' || updated_at || ',' || coalesce(CAST(finished_at AS text), '-') AS r FROM tasks ORDER BY id) AS t";

}  // namespace

BOOST_FIXTURE_TEST_CASE(the_task_list_is_the_clis_and_its_links_walk_every_task_once, ApiFixture) {
  for (int i = 0; i < 7; ++i) enqueue("mail", i == 2 ? "fetch" : "send");
  enqueue("other", "send");
  sql_exec(
      "UPDATE tasks SET status = 'dead', attempts = 1, last_error = 'x', finished_at = created_at WHERE id % 3 = 0");
  start_api();
  auto reply = get("/api/v1/queue/mail/tasks");
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(reply.headers["content-type"] == "application/json");
  BOOST_TEST(json::parse(reply.body) == lines_array(queue({"list", "mail", "--json"}).out));
  BOOST_TEST(json::parse(reply.body).size() == 7u);
  BOOST_TEST(json::parse(get("/api/v1/queue/mail/tasks?status=dead").body) ==
             lines_array(queue({"list", "mail", "--status", "dead", "--json"}).out));
  BOOST_TEST(json::parse(get("/api/v1/queue/mail/tasks?limit=3").body) ==
             lines_array(queue({"list", "mail", "--limit", "3", "--json"}).out));

  // Two at a time: every task once, newest first; a task enqueued during the walk has a newer id and stays out.
  std::vector<long long> ids;
  std::string next = "/api/v1/queue/mail/tasks?limit=2";
  int pages = 0;
  while (!next.empty()) {
    reply = get(next);
    BOOST_REQUIRE_MESSAGE(reply.status == 200, next << ": " << reply.body);
    for (const auto& task : json::parse(reply.body)) ids.push_back(task["id"].get<long long>());
    if (++pages == 1) enqueue("mail", "send");
    next = next_of(reply);
    BOOST_REQUIRE(pages < 20);
  }
  BOOST_TEST(pages == 4);
  BOOST_TEST(ids == (std::vector<long long>{7, 6, 5, 4, 3, 2, 1}));
  ids.clear();
  for (next = "/api/v1/queue/mail/tasks?status=pending&limit=1"; !next.empty(); next = next_of(reply)) {
    reply = get(next);
    for (const auto& task : json::parse(reply.body)) ids.push_back(task["id"].get<long long>());
    BOOST_REQUIRE(ids.size() < 20u);
  }
  BOOST_TEST(ids == (std::vector<long long>{9, 7, 5, 4, 2, 1}));

  reply = get("/api/v1/queue/mail/tasks?status=done");
  BOOST_TEST(reply.status == 400);
  BOOST_TEST("--" + json::parse(reply.body)["detail"].get<std::string>() + " (see --help)" ==
             cli_message(queue({"list", "mail", "--status", "done"}).err));
  reply = get("/api/v1/queue/mail/tasks?cursor=abc");
  BOOST_TEST(reply.status == 400);
  BOOST_TEST(json::parse(reply.body)["detail"].get<std::string>().starts_with("cursor: 'abc' is not a cursor"));
  reply = get("/api/v1/queue/nope/tasks");
  BOOST_TEST(reply.status == 404);
  BOOST_TEST(json::parse(reply.body)["detail"] == cli_message(queue({"list", "nope", "--json"}).err));
}

BOOST_FIXTURE_TEST_CASE(the_dead_letter_filters_are_the_clis_and_paginate_by_links, ApiFixture) {
  for (int i = 0; i < 5; ++i) enqueue("mail", i == 2 ? "fetch" : "send");
  sql_exec(
      "UPDATE tasks SET status = 'dead', attempts = 1, finished_at = created_at, last_error = CASE id % 2 WHEN 1 THEN "
      "'smtp 550 & refused' ELSE 'SMTP 550 timeout' END");
  start_api();
  auto reply = get("/api/v1/queue/mail/dead-letter?type=send&error=smtp%20550%20%26");
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(
      json::parse(reply.body) ==
      lines_array(retry({"list", "--queue", "mail", "--type", "send", "--error-match", "smtp 550 &", "--json"}).out));
  BOOST_TEST(json::parse(reply.body).size() == 2u);  // 5 and 1: 3 is a fetch, 2 and 4 say SMTP
  std::vector<long long> ids;
  for (std::string next = "/api/v1/queue/mail/dead-letter?error=smtp%20550%20%26&limit=1"; !next.empty();
       next = next_of(reply)) {
    reply = get(next);
    BOOST_REQUIRE_MESSAGE(reply.status == 200, next << ": " << reply.body);
    for (const auto& task : json::parse(reply.body)) ids.push_back(task["id"].get<long long>());
    BOOST_REQUIRE(ids.size() < 20u);
  }
  BOOST_TEST(ids == (std::vector<long long>{5, 3, 1}));
}

BOOST_FIXTURE_TEST_CASE(bulk_retry_does_what_oos_retry_requeue_all_does, ApiFixture) {
  for (int i = 0; i < 4; ++i) enqueue("mail", "send");
  enqueue("other", "send");
  sql_exec(
      "UPDATE tasks SET status = 'dead', attempts = 3, finished_at = created_at, last_error = CASE WHEN id <= 2 OR "
      "id = 5 THEN 'smtp 550' ELSE 'timeout' END");
  start_api({"OOS_API_TOKEN=admin-token-123456"});
  auto url = base + "/api/v1/queue/mail/dead-letter/retry";
  auto reply = http("POST", url + "?dry_run=true", R"({"error":"smtp"})", {k_admin});
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(reply.headers["content-type"] == "application/json");
  BOOST_TEST(reply.body ==
             retry({"requeue", "--all", "--queue", "mail", "--error-match", "smtp", "--dry-run", "--json"}).out);
  BOOST_TEST(json::parse(reply.body) == json::parse(R"({"requeued":[2,1],"dry_run":true})"));
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'dead'") == 5);

  reply = http("POST", url, R"({"error":"smtp","type":"send"})", {k_admin});
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(json::parse(reply.body) == json::parse(R"({"requeued":[2,1],"dry_run":false})"));
  BOOST_TEST(sql_text("SELECT group_concat(s) FROM (SELECT id || status AS s FROM tasks WHERE status != 'dead' ORDER "
                      "BY id) AS t") == "1pending,2pending");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'pending' AND attempts = 0 AND replays = 1") == 2);
  // Nothing matches any more: the CLI's answer for the same state.
  reply = http("POST", url, R"({"error":"smtp"})", {k_admin});
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(reply.body == retry({"requeue", "--all", "--queue", "mail", "--error-match", "smtp", "--json"}).out);
  // No body: every dead task of the queue, none of another queue.
  reply = http("POST", url, "", {k_admin});
  BOOST_TEST(json::parse(reply.body) == json::parse(R"({"requeued":[4,3],"dry_run":false})"));
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE queue = 'other'") == "dead");
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'task.requeue'") == 4);
}

// A write and its api.write event commit together, on either backend (the stores' transactions nest in the
// request's): when the event cannot be written, every kind of write leaves the database as it was, and the client
// may repeat it once the cause is gone.
BOOST_FIXTURE_TEST_CASE(a_write_whose_event_cannot_be_recorded_leaves_the_database_as_it_was, ApiFixture) {
  enqueue("mail", "send");
  enqueue("mail", "send");
  sql_exec("UPDATE tasks SET status = 'dead', attempts = 3, finished_at = created_at, last_error = 'x' WHERE id = 2");
  if (backend() == oos::test::TestBackend::pg) {
    sql_exec(
        "CREATE FUNCTION no_api_events() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.kind = 'api.write' THEN "
        "RAISE EXCEPTION 'no room for events'; END IF; RETURN NEW; END $$");
    sql_exec("CREATE TRIGGER no_api_events BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION no_api_events()");
  } else {
    sql_exec(
        "CREATE TRIGGER no_api_events BEFORE INSERT ON events WHEN NEW.kind = 'api.write' "
        "BEGIN SELECT RAISE(ABORT, 'no room for events'); END");
  }
  start_api({"OOS_API_TOKEN=admin-token-123456"});
  auto before = sql_text(k_all_tasks);
  auto events = sql_int("SELECT count(*) FROM events");
  for (const auto& [path, body] :
       std::vector<std::pair<std::string, std::string>>{{"/api/v1/queue/mail/tasks", R"({"type":"send"})"},
                                                        {"/api/v1/queue/mail/tasks", R"([{"type":"a"},{"type":"b"}])"},
                                                        {"/api/v1/queue/mail/pause", ""},
                                                        {"/api/v1/queue/mail/dead-letter/retry", "{}"},
                                                        {"/api/v1/queue/mail/dead-letter/2/retry", ""},
                                                        {"/api/v1/queue/mail/circuit-breaker/reset", ""}}) {
    auto reply = http("POST", base + path, body, {k_admin});
    BOOST_TEST(reply.status >= 500, path << ": " << reply.status << " " << reply.body);
    BOOST_TEST(sql_text(k_all_tasks) == before, path);
    BOOST_TEST(sql_int("SELECT count(*) FROM events") == events, path);
  }
  BOOST_TEST(sql_int("SELECT count(*) FROM queues WHERE paused") == 0);
  sql_exec(backend() == oos::test::TestBackend::pg ? "DROP TRIGGER no_api_events ON events"
                                                   : "DROP TRIGGER no_api_events");
  auto reply = http("POST", base + "/api/v1/queue/mail/tasks", R"({"type":"send"})", {k_admin});
  BOOST_TEST(reply.status == 201, reply.body);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 3);  // its id: 3 on SQLite, 6 on PostgreSQL (a sequence)
  BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'api.write'") == 1);
}

BOOST_FIXTURE_TEST_CASE(a_refused_or_bad_bulk_retry_leaves_the_database_as_it_was, ApiFixture) {
  enqueue("mail", "send", {"--unique-key", "k"});
  sql_exec("UPDATE tasks SET status = 'dead', attempts = 3, finished_at = created_at, last_error = 'x'");
  enqueue("mail", "send", {"--unique-key", "k"});  // pending: holds the key of dead task 1
  enqueue("mail", "send");
  sql_exec("UPDATE tasks SET status = 'dead', attempts = 3, finished_at = created_at, last_error = 'x' WHERE id = 3");
  start_api({"OOS_API_TOKEN=admin-token-123456"});
  auto url = base + "/api/v1/queue/mail/dead-letter/retry";
  auto before = sql_text(k_all_tasks);
  auto events = sql_int("SELECT count(*) FROM events");
  for (const auto* dry : {"", "?dry_run=true"}) {
    auto reply = http("POST", url + dry, "{}", {k_admin});
    BOOST_TEST(reply.status == 409, dry);
    std::vector<std::string> args{"requeue", "--all", "--queue", "mail", "--json"};
    if (*dry) args.push_back("--dry-run");
    BOOST_TEST(json::parse(reply.body)["detail"] == cli_message(retry(args).err), dry);
  }
  for (const auto* bad : {R"({"queue":"other"})", R"([1])", R"({"type":5})", R"({"type":"a b"})", "not json"}) {
    auto reply = http("POST", url, bad, {k_admin});
    BOOST_TEST(reply.status == 400, bad);
    BOOST_TEST(reply.headers["content-type"] == "application/problem+json", bad);
  }
  BOOST_TEST(http("POST", url + "?dry_run=maybe", "{}", {k_admin}).status == 400);
  BOOST_TEST(http("POST", base + "/api/v1/queue/nope/dead-letter/retry", "{}", {k_admin}).status == 404);
  BOOST_TEST(sql_text(k_all_tasks) == before);
  BOOST_TEST(sql_int("SELECT count(*) FROM events") == events);
}

BOOST_FIXTURE_TEST_CASE(metrics_are_the_text_of_oos_queue_metrics_for_a_reader, ApiFixture) {
  enqueue("mail", "send", {"--delay", "1h"});
  enqueue("mail", "send", {"--delay", "1h"});
  sql_exec("UPDATE tasks SET status = 'dead', attempts = 1, last_error = 'x', finished_at = created_at WHERE id = 2");
  start_api({"OOS_API_READONLY_TOKEN=reader-token-123456"});
  auto reply = http("GET", base + "/metrics", "", {"Authorization: Bearer reader-token-123456"});
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(reply.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8");
  BOOST_TEST(reply.body == queue({"metrics"}).out);
  BOOST_TEST(reply.body.find("oos_queue_dead_letter_tasks 1\n") != std::string::npos, reply.body);
  BOOST_TEST(get("/metrics").status == 401);
}

BOOST_AUTO_TEST_SUITE_END()
