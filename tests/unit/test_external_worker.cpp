// The pure parts of queue/external: the default worker name and what a report's --result and --error may be.
#include <boost/test/unit_test.hpp>

#include <string>

#include "error.hpp"
#include "queue/external.hpp"
#include "util/name.hpp"

using namespace oos::queue;

BOOST_AUTO_TEST_SUITE(external_worker)

BOOST_AUTO_TEST_CASE(the_default_worker_is_external_host_pid_within_the_name_rule) {
  BOOST_TEST(default_external_worker("db1.example.org", 4242) == "external:db1.example.org:4242");
  BOOST_TEST(default_external_worker("host name/x", 7) == "external:host_name_x:7");
  auto long_host = default_external_worker(std::string(100, 'h'), 123456);
  BOOST_TEST(long_host.size() == 64u);
  BOOST_TEST(long_host.starts_with("external:hhh"));
  BOOST_TEST(long_host.ends_with("h:123456"));
  BOOST_TEST(oos::util::is_plain_name(long_host));
}

// docs/reference.md section 8.1 states these sizes; they are the worker's caps of a handler's output.
BOOST_AUTO_TEST_CASE(the_limits_are_the_documented_64_kib_and_4_kib) {
  BOOST_TEST(k_max_external_result == 64u * 1024u);
  BOOST_TEST(k_max_external_error == 4u * 1024u);
}

BOOST_AUTO_TEST_CASE(a_result_is_one_json_document_of_at_most_64_kib) {
  BOOST_CHECK_NO_THROW(check_external_result(R"({"ok": true})"));
  BOOST_CHECK_NO_THROW(check_external_result("\"" + std::string(k_max_external_result - 2, 'x') + "\""));
  for (const std::string& bad : {std::string("{"), std::string(""), std::string("1 2"),
                                 "\"" + std::string(k_max_external_result - 1, 'x') + "\""}) {
    try {
      check_external_result(bad);
      BOOST_FAIL("accepted " << bad.substr(0, 20));
    } catch (const oos::Error& e) {
      BOOST_TEST((e.code() == oos::ExitCode::data_error));
    }
  }
}

BOOST_AUTO_TEST_CASE(an_error_is_cut_at_4_kib_on_a_character_boundary) {
  BOOST_TEST(cut_external_error("short") == "short");
  BOOST_TEST(cut_external_error(std::string(5000, 'e')).size() == k_max_external_error);
  // A two-byte character across the 4096th byte is dropped whole.
  auto text = std::string(k_max_external_error - 1, 'e') + "\xc3\xa9" + "tail";
  BOOST_TEST(cut_external_error(text) == std::string(k_max_external_error - 1, 'e'));
}

BOOST_AUTO_TEST_SUITE_END()
