#include <boost/test/unit_test.hpp>

#include <exception>
#include <string>
#include <vector>

#include "util/json.hpp"

using namespace oos::util;

BOOST_AUTO_TEST_SUITE(json)

BOOST_AUTO_TEST_CASE(check_json_accepts_one_document_of_any_kind_with_surrounding_whitespace) {
  const std::vector<std::string> documents{
      R"({})",
      R"({"to":"ops@example.org","n":[1,2.5,-3e2],"nested":{"ok":true,"none":null}})",
      R"([])",
      R"([1, "two", [3], {"four": 4}])",
      R"("just a string")",
      R"("escapes \" \\ \n \u00e9")",
      "42",
      "-0.5e-3",
      "true",
      "false",
      "null",
      " \t\r\n{\"a\" : 1}\n ",
      "\"caf\xc3\xa9\"",  // UTF-8 inside a string
  };
  for (const auto& doc : documents) {
    BOOST_TEST_CONTEXT("document " << doc) {
      auto checked = check_json(doc);
      BOOST_TEST(checked.has_value(), (checked ? std::string() : checked.error()));
    }
  }
}

struct InvalidCase {
  std::string text;
  std::string expected_error;
};

BOOST_AUTO_TEST_CASE(check_json_names_the_offset_and_the_cause_of_invalid_documents) {
  const std::vector<InvalidCase> cases{
      {R"({"to":})", "not valid JSON at offset 6: unexpected '}'"},
      {R"({"a":1}})", "not valid JSON at offset 7: unexpected '}'"},  // trailing garbage
      {R"([1,])", "not valid JSON at offset 3: unexpected ']'"},
      {R"([1,2)", "not valid JSON at offset 4: unexpected end of input"},
      {R"("abc)", "not valid JSON at offset 4: invalid string: missing closing quote"},
      {"tru", "not valid JSON at offset 3: invalid literal"},
      {"01", "not valid JSON at offset 1: unexpected number literal"},
      {"", "not valid JSON at offset 0: unexpected end of input"},
      {"   ", "not valid JSON at offset 3: unexpected end of input"},
      // Found by fuzz_json: nlohmann throws out_of_range, not parse_error, which escaped as an internal error.
      {"[1e400]", "not valid JSON: number overflow parsing '1e400'"},
      {R"({"a":-2.5e1010})", "not valid JSON: number overflow parsing '-2.5e1010'"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("text '" << c.text << "'") {
      auto checked = check_json(c.text);
      BOOST_TEST_REQUIRE(!checked.has_value());
      BOOST_TEST(checked.error() == c.expected_error);
    }
  }
}

BOOST_AUTO_TEST_CASE(check_json_rejects_a_second_value_after_the_first) {
  for (std::string text : {"{} x", "{} {}", "1 2", "[1] ]", "null,"}) {
    BOOST_TEST_CONTEXT("text '" << text << "'") {
      auto checked = check_json(text);
      BOOST_TEST_REQUIRE(!checked.has_value());
      BOOST_TEST(checked.error().starts_with("not valid JSON at offset "));
    }
  }
}

std::string nested(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

BOOST_AUTO_TEST_CASE(check_json_refuses_nesting_deeper_than_the_limit_without_recursing) {
  BOOST_TEST(check_json(nested(k_max_json_depth)).has_value());
  auto deeper = check_json(nested(k_max_json_depth + 1));
  BOOST_TEST_REQUIRE(!deeper.has_value());
  BOOST_TEST(deeper.error() == "nested deeper than 65 levels");
  // 100,000 levels: refused by the scan, not by a crash.
  BOOST_TEST(!check_json(nested(100000)).has_value());
  BOOST_TEST(!check_json(std::string(100000, '{')).has_value());
}

BOOST_AUTO_TEST_CASE(json_depth_counts_arrays_and_objects_but_not_brackets_in_strings) {
  BOOST_TEST(json_depth_within("[[1]]", 2));
  BOOST_TEST(!json_depth_within("[[1]]", 1));
  BOOST_TEST(!json_depth_within(R"({"a":{"b":1}})", 1));
  BOOST_TEST(json_depth_within(R"({"a":"[[[[\"[["})", 1));
  BOOST_TEST(json_depth_within("[1][2][3]", 1));
  BOOST_TEST(json_depth_within("", 0));
}

struct QuoteCase {
  std::string text;
  std::string expected;
};

BOOST_AUTO_TEST_CASE(json_quote_wraps_in_quotes_and_escapes_what_json_requires) {
  const std::vector<QuoteCase> cases{
      {"", R"("")"},
      {"plain", R"("plain")"},
      {"say \"hi\"", R"("say \"hi\"")"},
      {"back\\slash", R"("back\\slash")"},
      {"line\nbreak", R"("line\nbreak")"},
      {"tab\there", R"("tab\there")"},
      {"cr\r", R"("cr\r")"},
      {std::string("nul\0x", 5), R"("nul\u0000x")"},
      {"\x01\x1f", R"("\u0001\u001f")"},
      {"caf\xc3\xa9", "\"caf\xc3\xa9\""},  // UTF-8 passes through unchanged
      {"a/b", R"("a/b")"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("expected " << c.expected) {
      auto quoted = json_quote(c.text);
      BOOST_TEST(quoted == c.expected);
      BOOST_TEST(check_json(quoted).has_value());
    }
  }
}

// Log messages and fields carry handler output, which may be any bytes: quoting them must not throw.
BOOST_AUTO_TEST_CASE(json_quote_turns_invalid_utf8_into_a_valid_json_string_instead_of_throwing) {
  for (std::string text : {"bad \xff byte", "truncated \xc3", "\x80"}) {
    BOOST_TEST_CONTEXT("text of " << text.size() << " bytes") {
      try {
        auto quoted = json_quote(text);
        BOOST_TEST(check_json(quoted).has_value(), quoted);
      } catch (const std::exception& e) {
        BOOST_ERROR("json_quote threw: " << e.what());
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
