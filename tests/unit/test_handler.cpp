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

// How a run's end is read: the exit, and what the worker did or saw meanwhile.
struct EndCase {
  std::optional<int> code;
  std::optional<int> signal;
  bool timed_out = false;
  bool grace_expired = false;
  bool stop_requested = false;
  bool lease_lost = false;
  worker::Verdict verdict;
  FailureKind kind = FailureKind::retryable;  // for Verdict::fail
  std::string error;                          // for Verdict::fail
};

BOOST_AUTO_TEST_CASE(the_end_of_a_run_maps_to_one_verdict) {
  using worker::Verdict;
  config::HandlerConfig h;
  h.command = {"/bin/true"};
  h.timeout = std::chrono::minutes(10);
  h.permanent_exit_codes = {65};
  const std::optional<int> none;
  const std::vector<EndCase> cases{
      {0, none, false, false, false, false, Verdict::complete, FailureKind::retryable, ""},
      {1, none, false, false, false, false, Verdict::fail, FailureKind::retryable, "exit 1: boom"},
      {75, none, false, false, false, false, Verdict::fail, FailureKind::temporary, "exit 75: boom"},
      {65, none, false, false, false, false, Verdict::fail, FailureKind::permanent, "exit 65: boom"},
      {none, 9, false, false, false, false, Verdict::fail, FailureKind::retryable, "killed by signal 9 (Killed): boom"},
      {none, 15, true, false, false, false, Verdict::fail, FailureKind::retryable, "timed out after 10m: boom"},
      // A handler that traps SIGTERM and exits 0 after its timeout did not succeed.
      {0, none, true, false, false, false, Verdict::fail, FailureKind::retryable, "timed out after 10m: boom"},
      // A timeout during the shutdown grace is still a failed attempt.
      {none, 15, true, true, true, false, Verdict::fail, FailureKind::retryable, "timed out after 10m: boom"},
      // The end of the shutdown grace hands the task back, whatever the exit after our signal.
      {none, 15, false, true, true, false, Verdict::release, FailureKind::retryable, ""},
      {0, none, false, true, true, false, Verdict::release, FailureKind::retryable, ""},
      // Finished work is kept during shutdown; the service manager's SIGTERM is not the task's failure.
      {0, none, false, false, true, false, Verdict::complete, FailureKind::retryable, ""},
      {none, 15, false, false, true, false, Verdict::release, FailureKind::retryable, ""},
      {none, 9, false, false, true, false, Verdict::fail, FailureKind::retryable, "killed by signal 9 (Killed): boom"},
      {3, none, false, false, true, false, Verdict::fail, FailureKind::retryable, "exit 3: boom"},
      // A lost lease records nothing, whatever happened.
      {0, none, false, false, false, true, Verdict::abandon, FailureKind::retryable, ""},
      {none, 9, true, false, false, true, Verdict::abandon, FailureKind::retryable, ""},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    BOOST_TEST_CONTEXT("row " << i) {
      worker::RunEnd end;
      end.exit.exit_code = c.code;
      end.exit.signal = c.signal;
      end.exit.out = "printed";
      end.exit.err_tail = "boom\n";
      end.timed_out = c.timed_out;
      end.grace_expired = c.grace_expired;
      end.stop_requested = c.stop_requested;
      end.lease_lost = c.lease_lost;
      auto outcome = worker::classify_run(end, h);
      BOOST_TEST((outcome.verdict == c.verdict));
      if (c.verdict == Verdict::complete) BOOST_TEST(outcome.result == "printed");
      if (c.verdict == Verdict::fail) {
        BOOST_TEST((outcome.failure.kind == c.kind));
        BOOST_TEST(outcome.failure.error == c.error);
        int code = c.timed_out || c.signal ? -1 : c.code.value_or(-1);  // -1: no exit code kept
        BOOST_TEST(outcome.failure.exit_code.value_or(-1) == code);
      }
    }
  }
}

namespace {

worker::RunOutcome end_with(const config::HandlerConfig& h, int code, std::string err_tail) {
  worker::RunEnd end;
  end.exit.exit_code = code;
  end.exit.err_tail = std::move(err_tail);
  end.ended_at = 1'700'000'000'000;
  return worker::classify_run(end, h);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_spent_key_releases_the_task_without_counting_the_attempt) {
  using worker::Verdict;
  config::HandlerConfig h;
  h.command = {"/bin/true"};
  h.key_rings = {"OPENROUTER_KEYS"};
  h.key_exhausted_exit_code = 42;
  auto o = end_with(h, 75, "HTTP 429\noos:key-exhausted retry-after=30\n");
  BOOST_TEST((o.verdict == Verdict::release));
  BOOST_TEST(o.key_exhausted->retry_after.value().count() == 30'000);
  // The handler's own exit code means the same, with or without the line.
  o = end_with(h, 42, "quota gone\n");
  BOOST_TEST((o.verdict == Verdict::release));
  BOOST_TEST(!o.key_exhausted->retry_after);
  // 75 without the line is an ordinary temporary failure; the line with another exit code means nothing.
  o = end_with(h, 75, "oos:key-exhausted\nupstream down\n");
  BOOST_TEST((o.verdict == Verdict::fail));
  BOOST_TEST(!o.key_exhausted);
  o = end_with(h, 1, "oos:key-exhausted\n");
  BOOST_TEST((o.verdict == Verdict::fail));
  // A handler without key rings has no key to spend: the line changes nothing.
  h.key_rings.clear();
  o = end_with(h, 75, "oos:key-exhausted\n");
  BOOST_TEST((o.verdict == Verdict::fail));
  BOOST_TEST((o.failure.kind == FailureKind::temporary));
}

BOOST_AUTO_TEST_SUITE_END()
