#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>

#include "worker/handler.hpp"

using namespace oos;
using oos::policy::FailureKind;

namespace {

queue::Task task_of(const std::string& type) {
  queue::Task t;
  t.id = 42;
  t.type = type;
  t.queue = "media";
  t.attempts = 2;
  t.max_attempts = 5;
  return t;
}

worker::EnvLookup lookup_in(const std::map<std::string, std::string>& vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

bool has(const std::vector<std::string>& env, const std::string& entry) {
  return std::find(env.begin(), env.end(), entry) != env.end();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(handler)

BOOST_AUTO_TEST_CASE(the_environment_is_built_from_the_whitelist_only) {
  std::map<std::string, std::string> worker_env{
      {"PATH", "/usr/bin"}, {"HOME", "/var/lib/oos"}, {"LANG", "C.UTF-8"},   {"LC_TIME", "de_DE"},
      {"TZ", "UTC"},        {"AWS_SECRET", "leak"},   {"PROXY", "http://p"}, {"GITHUB_PAT", "in-env-too"}};
  std::vector<std::string> names;
  for (const auto& [name, value] : worker_env) names.push_back(name);
  config::HandlerConfig h;
  h.command = {"/bin/true"};
  h.pass_env = {"PROXY"};
  h.env = {{"QUALITY", "80"}};
  h.env_keys = {"GITHUB_PAT"};
  auto env = worker::handler_environment("thumb", h, task_of("thumb"), names, lookup_in(worker_env),
                                         lookup_in({{"GITHUB_PAT", "ghp_secret"}}));
  BOOST_REQUIRE(env.has_value());
  const std::vector<std::string> expected{"PATH=/usr/bin",        "HOME=/var/lib/oos", "TZ=UTC",
                                          "LANG=C.UTF-8",         "LC_TIME=de_DE",     "OOS_TASK_ID=42",
                                          "OOS_TASK_TYPE=thumb",  "OOS_QUEUE=media",   "OOS_ATTEMPT=2",
                                          "OOS_MAX_ATTEMPTS=5",   "PROXY=http://p",    "QUALITY=80",
                                          "GITHUB_PAT=ghp_secret"};
  for (const auto& entry : expected) BOOST_TEST(has(*env, entry), entry);
  BOOST_TEST(env->size() == expected.size());
  BOOST_TEST(!has(*env, "AWS_SECRET=leak"));
}

BOOST_AUTO_TEST_CASE(a_missing_secret_is_an_error_naming_handler_and_secret) {
  config::HandlerConfig h;
  h.command = {"/bin/true"};
  h.env_keys = {"CONTEXT7_API_KEY"};
  auto env = worker::handler_environment("docs", h, task_of("docs"), {}, lookup_in({}), lookup_in({}));
  BOOST_REQUIRE(!env.has_value());
  BOOST_TEST(env.error() == "handler 'docs': secret 'CONTEXT7_API_KEY' named in env_keys is not set");
}

struct ExitCase {
  std::optional<int> code;
  std::optional<int> signal;
  bool timed_out;
  bool succeeded;
  FailureKind kind;
  std::string error;
};

BOOST_AUTO_TEST_CASE(exit_codes_map_to_outcomes) {
  config::HandlerConfig h;
  h.command = {"/bin/true"};
  h.timeout = std::chrono::minutes(10);
  h.permanent_exit_codes = {65};
  const std::vector<ExitCase> cases{
      {0, std::nullopt, false, true, FailureKind::retryable, ""},
      {1, std::nullopt, false, false, FailureKind::retryable, "exit 1: boom"},
      {75, std::nullopt, false, false, FailureKind::temporary, "exit 75: boom"},
      {65, std::nullopt, false, false, FailureKind::permanent, "exit 65: boom"},
      {std::nullopt, 9, false, false, FailureKind::retryable, "killed by signal 9 (Killed): boom"},
      {std::nullopt, 15, true, false, FailureKind::retryable, "timed out after 10m: boom"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("code " << c.code.value_or(-1) << " signal " << c.signal.value_or(0)) {
      util::ChildExit exit;
      exit.exit_code = c.code;
      exit.signal = c.signal;
      exit.err_tail = "boom\n";
      auto outcome = worker::classify_run(exit, c.timed_out, h);
      BOOST_TEST(outcome.succeeded == c.succeeded);
      if (!c.succeeded) {
        BOOST_TEST((outcome.failure.kind == c.kind));
        BOOST_TEST(outcome.failure.error == c.error);
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
