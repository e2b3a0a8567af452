#include <boost/test/unit_test.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "support/deadline.hpp"
#include "util/subprocess.hpp"

using namespace oos::util;

namespace {

RunResult sh(const std::string& script, const RunOptions& options = {}) {
  return run_program({"/bin/sh", "-c", script}, options);
}

// run_program() with a deadline: a deadlock fails the test instead of hanging the suite. The child sends
// the result back as exit code, two sizes, stdout and stderr.
std::optional<RunResult> run_with_deadline(const std::vector<std::string>& argv, const RunOptions& options,
                                           unsigned seconds = 5) {
  auto raw = oos::test::run_with_deadline(
      [&] {
        auto r = run_program(argv, options);
        std::size_t sizes[2] = {r.out.size(), r.err.size()};
        std::string packed(reinterpret_cast<const char*>(&r.exit_code), sizeof r.exit_code);
        packed.append(reinterpret_cast<const char*>(sizes), sizeof sizes);
        return packed + r.out + r.err;
      },
      seconds);
  if (!raw) return std::nullopt;
  RunResult r;
  std::size_t sizes[2] = {0, 0};
  if (raw->size() < sizeof r.exit_code + sizeof sizes) return std::nullopt;
  std::memcpy(&r.exit_code, raw->data(), sizeof r.exit_code);
  std::memcpy(sizes, raw->data() + sizeof r.exit_code, sizeof sizes);
  auto offset = sizeof r.exit_code + sizeof sizes;
  if (raw->size() != offset + sizes[0] + sizes[1]) return std::nullopt;
  r.out = raw->substr(offset, sizes[0]);
  r.err = raw->substr(offset + sizes[0]);
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(subprocess)

struct ExitCase {
  std::string script;
  int expected;
};

BOOST_AUTO_TEST_CASE(run_program_returns_the_exit_code) {
  const std::vector<ExitCase> cases{
      {"exit 0", 0}, {"exit 1", 1}, {"exit 65", 65}, {"exit 75", 75}, {"exit 255", 255},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("script '" << c.script << "'") {
      BOOST_TEST(sh(c.script).exit_code == c.expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(run_program_looks_a_program_without_a_slash_up_in_path) {
  auto result = run_program({"true"});
  BOOST_TEST(result.exit_code == 0);
  BOOST_TEST(run_program({"false"}).exit_code == 1);
}

BOOST_AUTO_TEST_CASE(run_program_passes_arguments_unchanged_without_a_shell) {
  auto result = run_program({"/bin/echo", "two  spaces", "$HOME", "*", "'quoted'"});
  BOOST_TEST(result.exit_code == 0);
  BOOST_TEST(result.out == "two  spaces $HOME * 'quoted'\n");
}

BOOST_AUTO_TEST_CASE(run_program_captures_stdout_and_stderr_separately) {
  auto result = sh("printf 'to out'; printf 'to err' >&2; printf ' more' ; exit 3");
  BOOST_TEST(result.exit_code == 3);
  BOOST_TEST(result.out == "to out more");
  BOOST_TEST(result.err == "to err");
}

BOOST_AUTO_TEST_CASE(run_program_drains_large_stdout_and_stderr_together_without_deadlock) {
  // Far more than a pipe buffer on each stream at once: a runner reading one stream at a time hangs.
  auto result = run_with_deadline(
      {"/bin/sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' o & head -c 1000000 /dev/zero | tr '\\0' e >&2; wait"},
      {});
  BOOST_TEST_REQUIRE(result.has_value(), "run_program did not return within 5 s");
  BOOST_TEST(result->exit_code == 0);
  BOOST_TEST(result->out.size() == 1'000'000u);
  BOOST_TEST(result->err.size() == 1'000'000u);
  BOOST_TEST(result->out.find_first_not_of('o') == std::string::npos);
  BOOST_TEST(result->err.find_first_not_of('e') == std::string::npos);
}

// A child that echoes its input (a filter, or a handler logging its payload) writes while it reads: the
// runner must keep draining stdout while it feeds stdin.
BOOST_AUTO_TEST_CASE(run_program_feeds_a_large_stdin_through_a_child_that_echoes_it) {
  for (std::size_t size : {std::size_t{100}, std::size_t{65536}, std::size_t{200'000}, std::size_t{1u << 20}}) {
    BOOST_TEST_CONTEXT("input of " << size << " bytes") {
      std::string input;
      input.reserve(size + 16);
      for (std::size_t i = 0; input.size() < size; ++i) input += std::to_string(i) + (i % 7 == 0 ? "\n" : " ");
      input.resize(size);
      RunOptions options;
      options.stdin_data = input;
      auto result = run_with_deadline({"/bin/cat"}, options);
      BOOST_TEST(result.has_value(), "run_program did not return within 5 s");
      if (result) {
        BOOST_TEST(result->exit_code == 0);
        BOOST_TEST(result->out.size() == input.size());
        BOOST_TEST((result->out == input));
        BOOST_TEST(result->err.empty());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(run_program_feeds_a_large_stdin_to_a_child_that_reads_it_all_first) {
  RunOptions options;
  options.stdin_data = std::string(1u << 20, 'z');
  auto result = run_with_deadline({"/bin/sh", "-c", "wc -c"}, options);
  BOOST_TEST_REQUIRE(result.has_value(), "run_program did not return within 5 s");
  BOOST_TEST(result->exit_code == 0);
  BOOST_TEST(std::stoul(result->out) == (1u << 20));
}

BOOST_AUTO_TEST_CASE(run_program_closes_stdin_when_there_is_nothing_to_feed) {
  // cat would wait forever on an open stdin.
  auto result = run_program({"/bin/cat"});
  BOOST_TEST(result.exit_code == 0);
  BOOST_TEST(result.out.empty());
}

BOOST_AUTO_TEST_CASE(run_program_survives_a_child_that_exits_without_reading_its_stdin) {
  RunOptions options;
  options.stdin_data = std::string(1u << 20, 'x');
  auto result = run_with_deadline({"/bin/sh", "-c", "echo done; exit 4"}, options);
  BOOST_TEST_REQUIRE(result.has_value(), "run_program did not return within 5 s");
  BOOST_TEST(result->exit_code == 4);
  BOOST_TEST(result->out == "done\n");
}

BOOST_AUTO_TEST_CASE(run_program_replaces_the_environment_when_one_is_given) {
  RunOptions options;
  options.env = std::vector<std::string>{"OOS_ONLY=one", "OOS_OTHER=two words"};
  auto result = run_program({"/usr/bin/env"}, options);
  BOOST_TEST(result.exit_code == 0);
  BOOST_TEST(result.out == "OOS_ONLY=one\nOOS_OTHER=two words\n");
}

BOOST_AUTO_TEST_CASE(run_program_with_an_empty_environment_gives_the_child_none) {
  RunOptions options;
  options.env = std::vector<std::string>{};
  auto result = run_program({"/usr/bin/env"}, options);
  BOOST_TEST(result.exit_code == 0);
  BOOST_TEST(result.out.empty());
}

BOOST_AUTO_TEST_CASE(run_program_inherits_the_environment_by_default) {
  BOOST_TEST_REQUIRE(::setenv("OOS_TEST_SUBPROCESS_INHERITED", "inherited value", 1) == 0);
  auto result = sh("printf '%s' \"$OOS_TEST_SUBPROCESS_INHERITED\"");
  ::unsetenv("OOS_TEST_SUBPROCESS_INHERITED");
  BOOST_TEST(result.out == "inherited value");
}

struct SignalCase {
  std::string signal;
  int expected;
};

BOOST_AUTO_TEST_CASE(run_program_maps_death_by_signal_to_128_plus_the_signal_number) {
  const std::vector<SignalCase> cases{{"TERM", 143}, {"KILL", 137}, {"SEGV", 139}, {"USR1", 138}};
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("SIG" << c.signal) {
      auto result = sh("echo before; kill -" + c.signal + " $$; echo after");
      BOOST_TEST(result.exit_code == c.expected);
      BOOST_TEST(result.out == "before\n");
    }
  }
}

BOOST_AUTO_TEST_CASE(run_program_throws_when_the_program_does_not_exist) {
  BOOST_CHECK_THROW(run_program({"/nonexistent/oos-no-such-program"}), std::system_error);
  BOOST_CHECK_THROW(run_program({"oos-no-such-program-in-path"}), std::system_error);
  try {
    run_program({"/nonexistent/oos-no-such-program"});
    BOOST_FAIL("no exception");
  } catch (const std::system_error& e) {
    BOOST_TEST(e.code().value() == ENOENT);
    BOOST_TEST(std::string(e.what()).find("/nonexistent/oos-no-such-program") != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
