#include <boost/test/unit_test.hpp>

#include "cli/cli_support.hpp"

using oos::test::CliFixture;

BOOST_AUTO_TEST_SUITE(enqueue)

BOOST_FIXTURE_TEST_CASE(enqueue_prints_the_new_id_and_stores_a_pending_task, CliFixture) {
  auto r = queue({"enqueue", "mail", "send", "--data", R"({"to":"ops"})", "--priority", "3"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out == "1\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE queue = 'mail' AND type = 'send' AND status = 'pending' "
                     "AND priority = 3 AND payload = '{\"to\":\"ops\"}'") == 1);
}

BOOST_FIXTURE_TEST_CASE(invalid_json_payload_is_exit_65_and_stores_nothing, CliFixture) {
  BOOST_TEST(queue({"enqueue", "mail", "send"}).exit_code == 0);
  auto r = queue({"enqueue", "mail", "send", "--data", R"({"to":})"});
  BOOST_TEST(r.exit_code == 65);
  BOOST_TEST(r.err == "oos-queue: error: payload is not valid JSON at offset 6: unexpected '}'\n");
  BOOST_TEST(r.out.empty());
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 1);
}

BOOST_AUTO_TEST_SUITE_END()
