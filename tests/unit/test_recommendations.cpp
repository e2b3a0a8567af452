#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "scale/recommendations.hpp"

using namespace oos::scale;

namespace {

constexpr oos::util::UnixMillis k_now = 1'800'000'000'000;

RecommendationInput calm() {
  RecommendationInput in;
  in.now = k_now;
  in.desired_workers = 2;
  in.max_workers = 5;
  in.runnable = 150;
  in.runnable_earlier = 200;
  in.window = std::chrono::minutes(5);
  in.queues = {{"default", 0, false, 0}};
  in.fragmentation_percent = 3;
  in.disks = {{"/var/lib/oos", 40}};
  return in;
}

bool mentions(const std::vector<std::string>& lines, const std::string& text) {
  for (const auto& line : lines)
    if (line.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(recommendations)

BOOST_AUTO_TEST_CASE(a_calm_host_gets_no_recommendation) {
  BOOST_TEST(recommend(calm()).empty());
}

BOOST_AUTO_TEST_CASE(workers_at_the_maximum_with_a_growing_backlog) {
  auto in = calm();
  in.desired_workers = 5;
  in.runnable = 900;
  in.runnable_earlier = 600;
  auto out = recommend(in);
  BOOST_TEST_REQUIRE(out.size() == 1u);
  BOOST_TEST(mentions(out, "from 600 to 900"), out[0]);
  BOOST_TEST(mentions(out, "scale.max_workers"));
  in.runnable = 500;  // shrinking: the workers keep up
  BOOST_TEST(recommend(in).empty());
}

BOOST_AUTO_TEST_CASE(a_breaker_open_for_long_but_not_one_just_opened) {
  auto in = calm();
  in.queues = {{"mail", 0, true, k_now - 15 * 60 * 1000}, {"resize", 0, true, k_now - 60 * 1000}};
  auto out = recommend(in);
  BOOST_TEST_REQUIRE(out.size() == 1u);
  BOOST_TEST(mentions(out, "queue mail: breaker open for 15m"), out[0]);
  BOOST_TEST(mentions(out, "oos-queue breaker mail --reset"));
}

BOOST_AUTO_TEST_CASE(dead_tasks_fragmentation_and_a_full_disk) {
  auto in = calm();
  in.queues = {{"import", 7, false, 0}};
  in.fragmentation_percent = 40;
  in.disks = {{"/var/lib/oos", 93}, {"/srv/backups", 20}};
  auto out = recommend(in);
  BOOST_TEST(out.size() == 3u);
  BOOST_TEST(mentions(out, "queue import: 7 dead tasks"));
  BOOST_TEST(mentions(out, "oos-integrity vacuum"));
  BOOST_TEST(mentions(out, "disk holding /var/lib/oos is 93% full"));
  BOOST_TEST(!mentions(out, "/srv/backups"));
}

BOOST_AUTO_TEST_SUITE_END()
