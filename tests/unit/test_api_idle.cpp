#include <boost/test/unit_test.hpp>

#include "api/idle.hpp"

using namespace std::chrono_literals;
using oos::api::IdleClock;

BOOST_AUTO_TEST_SUITE(api_idle)

BOOST_AUTO_TEST_CASE(a_server_no_connection_reaches_expires_after_the_limit_from_its_start) {
  IdleClock idle(1000ms, 5000ms);
  BOOST_TEST(!idle.expired(5999ms));
  BOOST_TEST(idle.next_check(5400ms).count() == 600);
  BOOST_TEST(idle.expired(6000ms));
  BOOST_TEST(idle.next_check(6500ms).count() == 0);
}

BOOST_AUTO_TEST_CASE(an_open_connection_never_expires_however_long_it_stays) {
  IdleClock idle(1000ms, 0ms);
  idle.opened();
  BOOST_TEST(idle.open() == 1);
  BOOST_TEST(!idle.expired(60000ms));
  BOOST_TEST(idle.next_check(60000ms).count() == 1000);  // the whole limit: it cannot expire sooner
}

BOOST_AUTO_TEST_CASE(the_idle_time_starts_when_the_last_connection_closes) {
  IdleClock idle(1000ms, 0ms);
  idle.opened();
  idle.opened();
  idle.closed(3000ms);
  BOOST_TEST(!idle.expired(10000ms));  // one still open
  idle.closed(4000ms);
  BOOST_TEST(idle.open() == 0);
  BOOST_TEST(!idle.expired(4999ms));
  BOOST_TEST(idle.next_check(4500ms).count() == 500);
  BOOST_TEST(idle.expired(5000ms));
}

BOOST_AUTO_TEST_CASE(a_connection_opened_while_idle_resets_the_wait) {
  IdleClock idle(1000ms, 0ms);
  idle.opened();
  idle.closed(900ms);  // opened at 900 ms, before the limit, and closed at once
  BOOST_TEST(!idle.expired(1000ms));
  BOOST_TEST(idle.expired(1900ms));
}

BOOST_AUTO_TEST_CASE(a_close_without_an_open_does_not_go_below_zero) {
  IdleClock idle(1000ms, 0ms);
  idle.closed(500ms);
  BOOST_TEST(idle.open() == 0);
  idle.opened();
  BOOST_TEST(!idle.expired(5000ms));
}

BOOST_AUTO_TEST_SUITE_END()
