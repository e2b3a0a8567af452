#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>
#include <regex>

#include "api/router.hpp"
#include "api/static_files.hpp"
#include "app/output.hpp"
#include "queue/sqlite_worker_registry.hpp"
#include "search/quota_status.hpp"
#include "search/sqlite_search_store.hpp"
#include "store/sqlite_backend.hpp"
#include "store_fixture.hpp"

using namespace oos;
using nlohmann::json;
using oos::test::StoreFixture;

namespace {

constexpr const char* k_token = "admin-token-123456";

// The router as oos-api builds it, with an admin token: the data needs it, the dashboard's files do not.
struct DashboardFixture : StoreFixture {
  store::SqliteBackend backend{*db, config, clock, *logger};
  api::Router router{{backend,
                      config,
                      clock,
                      *logger,
                      dir.path(),
                      dir / "backups",
                      {std::string(k_token), std::nullopt, api::default_allowed_hosts("127.0.0.1:8765")}}};

  api::Response get(const std::string& path, std::map<std::string, std::string> headers = {},
                    std::map<std::string, std::string> query = {}) {
    return router.handle({"GET", path, std::move(query), std::move(headers), "", true});
  }
  api::Response get_with_token(const std::string& path, std::map<std::string, std::string> query = {}) {
    return get(path, {{"authorization", std::string("Bearer ") + k_token}}, std::move(query));
  }

  // Runs one task of `queue` to its end at the clock's time: succeeded, or failed (a permanent failure: dead).
  void run_one(const std::string& queue, bool succeed) {
    add(queue);
    const std::array<std::string, 1> names{queue};
    auto claimed = tasks.claim(names, "w1");
    BOOST_REQUIRE(claimed);
    if (succeed)
      tasks.complete(claimed->lease, "");
    else
      tasks.fail(claimed->lease, {policy::FailureKind::permanent, "boom", 1});
  }
};

std::string header(const api::Response& r, const std::string& name) {
  for (const auto& [n, v] : r.headers)
    if (n == name) return v;
  return "";
}

int count_headers(const api::Response& r, const std::string& name) {
  int n = 0;
  for (const auto& [header_name, value] : r.headers) n += header_name == name ? 1 : 0;
  return n;
}

json body(const api::Response& r) {
  return json::parse(r.body);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_dashboard)

BOOST_FIXTURE_TEST_CASE(the_files_are_public_with_their_content_types, DashboardFixture) {
  struct Case {
    const char* path;
    const char* type;
    const char* starts;
  };
  for (auto [path, type, starts] :
       {Case{"/", "text/html; charset=utf-8", "<!doctype html>"},
        Case{"/app.js", "text/javascript; charset=utf-8", "//"}, Case{"/app.css", "text/css; charset=utf-8", "/*"}}) {
    auto reply = get(path);  // no token
    BOOST_TEST(reply.status == 200, path);
    BOOST_TEST(header(reply, "Content-Type") == type, path);
    BOOST_TEST(reply.body.starts_with(starts), path);
    BOOST_TEST(header(reply, "Content-Security-Policy") == "default-src 'self'", path);
    BOOST_TEST(header(reply, "X-Content-Type-Options") == "nosniff", path);
    BOOST_TEST(header(reply, "Cache-Control") == "no-cache", path);
    BOOST_TEST(count_headers(reply, "Cache-Control") == 1, path);
  }
  // Everything else still needs the token; /index.html is served as / only.
  for (const auto* path : {"/api/v1/queue/status", "/api/v1/workers", "/api/v1/activity", "/api/v1/search/quota",
                           "/index.html", "/app.json"})
    BOOST_TEST(get(path).status == 401, path);
  BOOST_TEST(api::is_public_path("/health"));
  BOOST_TEST(!api::is_public_path("/api/v1/queue/status"));
}

BOOST_FIXTURE_TEST_CASE(the_files_are_the_embedded_assets_without_inline_script, DashboardFixture) {
  auto html = get("/").body;
  BOOST_TEST(html.find("<script src=\"/app.js\"") != std::string::npos);
  BOOST_TEST(html.find("<script>") == std::string::npos);  // the CSP would block it
  BOOST_TEST(html.find(" style=") == std::string::npos);
  BOOST_TEST(!std::regex_search(html, std::regex(R"( on[a-z]+\s*=)")));  // no onclick= and the like
  BOOST_TEST(get("/app.js").body.find("innerHTML") == std::string::npos);
  BOOST_TEST(api::embedded_files().size() == 4u);  // with favicon.svg
}

BOOST_FIXTURE_TEST_CASE(an_etag_gives_304_without_a_body, DashboardFixture) {
  auto first = get("/app.js");
  auto etag = header(first, "ETag");
  BOOST_TEST(etag.size() > 2u);
  BOOST_TEST(etag.front() == '"');
  BOOST_TEST(header(get("/app.js"), "ETag") == etag);  // stable
  BOOST_TEST(header(get("/app.css"), "ETag") != etag);
  auto again = get("/app.js", {{"if-none-match", etag}});
  BOOST_TEST(again.status == 304);
  BOOST_TEST(again.body.empty());
  BOOST_TEST(header(again, "ETag") == etag);
  BOOST_TEST(get("/app.js", {{"if-none-match", "\"other\", W/" + etag}}).status == 304);
  BOOST_TEST(get("/app.js", {{"if-none-match", "\"other\""}}).status == 200);
  auto head = router.handle({"HEAD", "/", {}, {}, "", true});
  BOOST_TEST(head.status == 200);
  auto post = router.handle({"POST", "/app.js", {}, {{"authorization", std::string("Bearer ") + k_token}}, "", true});
  BOOST_TEST(post.status == 405);
  BOOST_TEST(header(post, "Allow") == "GET, HEAD");
}

BOOST_FIXTURE_TEST_CASE(workers_lists_heartbeats_with_their_age_and_task, DashboardFixture) {
  queue::SqliteWorkerRegistry registry(*db);
  auto t0 = clock.now();
  registry.heartbeat("1", 4242, "host-a", t0 - 60'000, t0 - 12'000, "idle on default; 3 tasks run", 3);
  registry.heartbeat("2", 4343, "host-a", t0 - 60'000, t0 - 2'000, "running", 0);
  auto id = add("mail");
  const std::array<std::string, 1> mail{"mail"};
  BOOST_REQUIRE(tasks.claim(mail, "2"));
  auto reply = get_with_token("/api/v1/workers");
  BOOST_TEST(reply.status == 200);
  BOOST_TEST(header(reply, "Content-Type") == "application/json");
  auto doc = body(reply);
  BOOST_REQUIRE(doc["workers"].size() == 2u);
  BOOST_TEST(doc["workers"][0]["name"] == "1");
  BOOST_TEST(doc["workers"][0]["pid"] == 4242);
  BOOST_TEST(doc["workers"][0]["host"] == "host-a");
  BOOST_TEST(doc["workers"][0]["heartbeat_age_seconds"] == 12);
  BOOST_TEST(doc["workers"][0]["tasks_run"] == 3);
  BOOST_TEST(doc["workers"][0]["status"] == "idle on default; 3 tasks run");
  BOOST_TEST(doc["workers"][0]["current_task"].is_null());
  BOOST_TEST(doc["workers"][1]["current_task"] == (json{{"id", id}, {"queue", "mail"}, {"type", "job"}}));
  BOOST_TEST(reply.body == app::dump(app::workers_document(registry.list(), registry.current_tasks(), t0)) + "\n");
}

BOOST_FIXTURE_TEST_CASE(activity_counts_runs_and_failures_per_minute_and_hour, DashboardFixture) {
  auto start = clock.now();
  run_one("mail", true);
  run_one("mail", false);
  clock.advance(2 * 60'000);
  run_one("mail", true);
  run_one("other", false);
  clock.advance(3 * 60 * 60'000);  // three hours on: out of the last hour, still in the day
  run_one("mail", true);

  auto doc = body(get_with_token("/api/v1/activity", {{"queue", "mail"}}));
  BOOST_TEST(doc["queue"] == "mail");
  BOOST_REQUIRE(doc["minutes"].size() == 60u);
  BOOST_REQUIRE(doc["hours"].size() == 24u);
  auto sum = [](const json& buckets, const char* what) {
    std::int64_t n = 0;
    for (const auto& b : buckets) n += b[what].get<std::int64_t>();
    return n;
  };
  BOOST_TEST(sum(doc["minutes"], "runs") == 1);  // only the last run is within the hour
  BOOST_TEST(doc["minutes"][59]["runs"] == 1);   // the current minute is last
  BOOST_TEST(doc["minutes"][59]["start"] == util::format_iso8601(clock.now() / 60'000 * 60'000));
  BOOST_TEST(sum(doc["hours"], "runs") == 4);
  BOOST_TEST(sum(doc["hours"], "failures") == 1);
  BOOST_TEST(doc["hours"][23]["runs"] == 1);
  BOOST_TEST(doc["hours"][23 - 3]["start"] == util::format_iso8601(start / 3'600'000 * 3'600'000));

  auto all = body(get_with_token("/api/v1/activity"));
  BOOST_TEST(all["queue"].is_null());
  BOOST_TEST(sum(all["hours"], "runs") == 5);
  BOOST_TEST(sum(all["hours"], "failures") == 2);

  auto unknown = get_with_token("/api/v1/activity", {{"queue", "nope"}});
  BOOST_TEST(unknown.status == 404);
  BOOST_TEST(get_with_token("/api/v1/activity", {{"queue", "bad name!"}}).status == 400);
}

BOOST_FIXTURE_TEST_CASE(search_quota_is_the_oos_search_quota_document, DashboardFixture) {
  config.search.providers = {"google", "searxng"};
  auto reply = get_with_token("/api/v1/search/quota");
  BOOST_TEST(reply.status == 200);
  auto secrets = secrets::SecretStore::from_environment();
  search::SqliteSearchStore store(*db, config.breaker, *logger);
  BOOST_TEST(reply.body ==
             app::dump(app::quota_document(search::provider_status(store, config, secrets, clock.now()))) + "\n");
  auto doc = body(reply);
  BOOST_REQUIRE(doc["providers"].size() == 2u);
  BOOST_TEST(doc["providers"][1]["provider"] == "searxng");
  BOOST_TEST(doc["providers"][1]["remaining"].is_null());  // unlimited
  BOOST_TEST(doc["providers"][0]["daily_quota"] == 8000);
  BOOST_TEST(doc["providers"][0]["breaker"]["state"] == "closed");
}

BOOST_FIXTURE_TEST_CASE(the_overview_paths_are_read_only, DashboardFixture) {
  for (const auto* path : {"/api/v1/workers", "/api/v1/activity", "/api/v1/search/quota"}) {
    auto reply = router.handle({"POST", path, {}, {{"authorization", std::string("Bearer ") + k_token}}, "", true});
    BOOST_TEST(reply.status == 405, path);
    BOOST_TEST(header(reply, "Allow") == "GET, HEAD", path);
  }
}

BOOST_AUTO_TEST_SUITE_END()
