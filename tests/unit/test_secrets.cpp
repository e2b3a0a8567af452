#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "secrets.hpp"
#include "support/deadline.hpp"
#include "support/temp_dir.hpp"

using namespace oos::secrets;
using oos::test::TempDir;
using oos::test::write_file;

namespace {

// Sets an environment variable for the lifetime of the object. Names are unique to these tests.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::string& value) : m_name(std::move(name)) {
    BOOST_TEST_REQUIRE(::setenv(m_name.c_str(), value.c_str(), 1) == 0);
  }
  ~ScopedEnv() { ::unsetenv(m_name.c_str()); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string m_name;
};

// scrub() with a deadline: a scrub that never returns fails the test instead of hanging the suite.
std::optional<std::string> scrub_with_deadline(const std::string& text, const std::vector<std::string>& secrets) {
  return oos::test::run_with_deadline([&] { return scrub(text, secrets); }, 1);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(secrets)

BOOST_AUTO_TEST_CASE(the_credentials_directory_wins_over_the_environment) {
  TempDir creds;
  write_file(creds / "OOS_TEST_SECRET_BOTH", "from-credentials\n");
  ScopedEnv env("OOS_TEST_SECRET_BOTH", "from-environment");
  SecretStore store(creds.path());
  BOOST_TEST(store.get("OOS_TEST_SECRET_BOTH").value_or("<absent>") == "from-credentials");
}

BOOST_AUTO_TEST_CASE(the_environment_is_used_when_the_credentials_directory_lacks_the_name) {
  TempDir creds;
  ScopedEnv env("OOS_TEST_SECRET_ENV_ONLY", "env-value");
  BOOST_TEST(SecretStore(creds.path()).get("OOS_TEST_SECRET_ENV_ONLY").value_or("<absent>") == "env-value");
  BOOST_TEST(SecretStore(std::nullopt).get("OOS_TEST_SECRET_ENV_ONLY").value_or("<absent>") == "env-value");
}

struct NewlineCase {
  std::string file_content;
  std::string expected;
};

BOOST_AUTO_TEST_CASE(one_trailing_newline_is_stripped_from_a_credential_file) {
  const std::vector<NewlineCase> cases{
      {"token\n", "token"},           {"token", "token"},
      {"token\n\n", "token\n"},                                    // only one newline is removed
      {"two\nlines\n", "two\nlines"}, {" spaced \n", " spaced "},  // other whitespace is part of the secret
  };
  TempDir creds;
  SecretStore store(creds.path());
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("content of " << c.file_content.size() << " bytes") {
      write_file(creds / "OOS_TEST_SECRET_NL", c.file_content);
      BOOST_TEST(store.get("OOS_TEST_SECRET_NL").value_or("<absent>") == c.expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_missing_secret_is_nullopt) {
  TempDir creds;
  ::unsetenv("OOS_TEST_SECRET_NOWHERE");
  BOOST_TEST(!SecretStore(creds.path()).get("OOS_TEST_SECRET_NOWHERE").has_value());
  BOOST_TEST(!SecretStore(std::nullopt).get("OOS_TEST_SECRET_NOWHERE").has_value());
  BOOST_TEST(!SecretStore(creds / "no-such-dir").get("OOS_TEST_SECRET_NOWHERE").has_value());
}

BOOST_AUTO_TEST_CASE(an_empty_environment_value_counts_as_missing) {
  ScopedEnv env("OOS_TEST_SECRET_EMPTY", "");
  BOOST_TEST(!SecretStore(std::nullopt).get("OOS_TEST_SECRET_EMPTY").has_value());
}

BOOST_AUTO_TEST_CASE(names_with_a_slash_or_empty_names_are_refused) {
  TempDir creds;
  std::filesystem::create_directory(creds / "sub");
  write_file(creds / "sub" / "OOS_TEST_SECRET_NESTED", "nested");
  write_file(creds.path().parent_path() / ("oos-test-secret-outside-" + creds.path().filename().string()), "out");
  ScopedEnv env("OOS_TEST/SECRET", "slash-in-env");
  SecretStore store(creds.path());
  BOOST_TEST(!store.get("sub/OOS_TEST_SECRET_NESTED").has_value());
  BOOST_TEST(!store.get("../oos-test-secret-outside-" + creds.path().filename().string()).has_value());
  BOOST_TEST(!store.get("OOS_TEST/SECRET").has_value());
  BOOST_TEST(!store.get("").has_value());
  std::filesystem::remove(creds.path().parent_path() / ("oos-test-secret-outside-" + creds.path().filename().string()));
}

BOOST_AUTO_TEST_CASE(from_environment_reads_credentials_directory_from_the_environment) {
  TempDir creds;
  write_file(creds / "OOS_TEST_SECRET_FROM_ENV_DIR", "via-credentials-directory\n");
  const char* previous = std::getenv("CREDENTIALS_DIRECTORY");
  std::optional<std::string> saved = previous ? std::optional<std::string>(previous) : std::nullopt;
  ::setenv("CREDENTIALS_DIRECTORY", creds.path().c_str(), 1);
  auto value = SecretStore::from_environment().get("OOS_TEST_SECRET_FROM_ENV_DIR");
  if (saved)
    ::setenv("CREDENTIALS_DIRECTORY", saved->c_str(), 1);
  else
    ::unsetenv("CREDENTIALS_DIRECTORY");
  BOOST_TEST(value.value_or("<absent>") == "via-credentials-directory");
}

struct RedactCase {
  std::optional<std::string> value;
  std::string expected;
};

BOOST_AUTO_TEST_CASE(redact_shows_at_most_the_last_four_characters_and_none_of_short_values) {
  const std::vector<RedactCase> cases{
      {std::nullopt, "absent"},
      {std::string("a"), "present"},
      {std::string("abcd"), "present"},
      {std::string("abcdefghijk"), "present"},  // 11 characters: too short to show any
      {std::string("abcdefghijkl"), "present (\u2026ijkl)"},
      {std::string("AIzaSyD-very-long-google-key-9XyZ"), "present (\u20269XyZ)"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("value of " << (c.value ? c.value->size() : 0u) << " characters") {
      BOOST_TEST(redact(c.value) == c.expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(redact_never_contains_the_secret_beyond_its_last_four_characters) {
  for (std::size_t length = 1; length <= 40; ++length) {
    std::string secret;
    for (std::size_t i = 0; i < length; ++i) secret.push_back(static_cast<char>('A' + i % 26));
    auto shown = redact(secret);
    BOOST_TEST_CONTEXT("length " << length << " shown " << shown) {
      // No run of 5 consecutive characters of the secret may appear.
      for (std::size_t i = 0; i + 5 <= length; ++i) BOOST_TEST(shown.find(secret.substr(i, 5)) == std::string::npos);
      if (length < 12) BOOST_TEST(shown == "present");
    }
  }
}

struct ScrubCase {
  std::string text;
  std::vector<std::string> secrets;
  std::string expected;
};

BOOST_AUTO_TEST_CASE(scrub_replaces_every_occurrence_of_every_secret) {
  const std::vector<ScrubCase> cases{
      {"no secrets here", {"s3cr3t-value"}, "no secrets here"},
      {"key=s3cr3t-value", {"s3cr3t-value"}, "key=[redacted]"},
      {"s3cr3t-value and s3cr3t-value again s3cr3t-value",
       {"s3cr3t-value"},
       "[redacted] and [redacted] again [redacted]"},
      {std::string(24, 'A'), {std::string(8, 'A')}, "[redacted][redacted][redacted]"},
      {"one=key-one-1 two=key-two-22", {"key-one-1", "key-two-22"}, "one=[redacted] two=[redacted]"},
      {"empty secrets are ignored", {""}, "empty secrets are ignored"},
      {"", {"x"}, ""},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("text '" << c.text << "'") {
      auto scrubbed = scrub_with_deadline(c.text, c.secrets);
      BOOST_TEST_REQUIRE(scrubbed.has_value(), "scrub did not return");
      BOOST_TEST(*scrubbed == c.expected);
    }
  }
}

// A secret that happens to occur inside the replacement text "[redacted]" must still be replaced once.
BOOST_AUTO_TEST_CASE(scrub_terminates_when_a_secret_occurs_inside_the_replacement_text) {
  const std::vector<ScrubCase> cases{
      {"value: redacted", {"redacted"}, "value: [redacted]"},
      {"[redacted] x", {"[redacted]"}, "[redacted] x"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("text '" << c.text << "'") {
      auto scrubbed = scrub_with_deadline(c.text, c.secrets);
      BOOST_TEST(scrubbed.has_value(), "scrub did not return within 1 s");
      if (scrubbed) BOOST_TEST(*scrubbed == c.expected);
    }
  }
}

// A value too short to be a credential is not redacted: replacing it would wreck the message (an engine id "c"
// made "Failed to connect" read "Failed to [redacted]onne[redacted]t"). oos-health validate warns about it.
BOOST_AUTO_TEST_CASE(values_shorter_than_the_minimum_are_left_in_messages) {
  static_assert(k_min_secret_length == 8);
  const std::vector<ScrubCase> cases{
      {"Failed to connect to 127.0.0.1 port 1: Couldn't connect to server",
       {"c"},
       "Failed to connect to 127.0.0.1 port 1: Couldn't connect to server"},
      {"request failed: 1234567 is not 12345678", {"1234567", "12345678"}, "request failed: 1234567 is not [redacted]"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("text '" << c.text << "'") {
      BOOST_TEST(scrub(c.text, c.secrets) == c.expected);
      BOOST_TEST(scrub_excerpt(c.text, c.secrets, true, true) == c.expected);
    }
  }
  BOOST_TEST(scrub_excerpt("key=abcd", {"abcdefg"}, false, true) == "key=abcd");  // a short secret's piece too
}

struct ExcerptCase {
  std::string text;
  bool cut_start;
  bool cut_end;
  std::string expected;
};

// An excerpt cut out of a longer output may hold only a piece of a secret at its edge.
BOOST_AUTO_TEST_CASE(scrub_excerpt_also_redacts_pieces_of_a_secret_at_a_cut_edge) {
  const std::vector<std::string> secrets{"s3cr3t-value-1234"};
  const std::vector<ExcerptCase> cases{
      {"key=s3cr3t-val", false, true, "key=[redacted]"},   // the excerpt stops inside the secret
      {"key=s3cr3t-val", false, false, "key=s3cr3t-val"},  // not cut there: a whole output, left alone
      {"lue-1234 rest", true, false, "[redacted] rest"},   // the excerpt starts inside the secret
      {"lue-1234 rest", false, true, "lue-1234 rest"},     // cut at the other end only
      {"x s3c", false, true, "x s3c"},                     // under 4 characters: not a telling piece
      {"a s3cr3t-value-1234 b s3cr", false, true, "a [redacted] b [redacted]"},
      {"", true, true, ""},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("text '" << c.text << "' cut " << c.cut_start << c.cut_end) {
      BOOST_TEST(scrub_excerpt(c.text, secrets, c.cut_start, c.cut_end) == c.expected);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
