#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "scale/instances.hpp"

using namespace oos::scale;
using Names = std::vector<std::string>;

namespace {
const std::string k_template = "oos-worker@.service";
}

BOOST_AUTO_TEST_SUITE(instances)

BOOST_AUTO_TEST_CASE(the_glob_matches_the_templates_instances) {
  BOOST_TEST(instance_glob(k_template) == "oos-worker@*.service");
}

BOOST_AUTO_TEST_CASE(instance_numbers_are_read_from_unit_names) {
  BOOST_TEST(instance_number(k_template, "oos-worker@3.service").value_or(-1) == 3);
  BOOST_TEST(instance_number(k_template, "oos-worker@12.service").value_or(-1) == 12);
  BOOST_TEST(!instance_number(k_template, "oos-worker@.service"));
  BOOST_TEST(!instance_number(k_template, "oos-worker@x1.service"));
  BOOST_TEST(!instance_number(k_template, "oos-worker@0.service"));
  BOOST_TEST(!instance_number(k_template, "oos-worker@-1.service"));
  BOOST_TEST(!instance_number(k_template, "oos-backup.service"));
  BOOST_TEST(!instance_number(k_template, "oos-worker@3.timer"));
}

struct Case {
  Names running;
  int desired;
  Names start;
  Names stop;
};

BOOST_AUTO_TEST_CASE(instances_start_at_the_lowest_free_number_and_stop_from_the_highest) {
  const std::vector<Case> cases{
      {{}, 1, {"oos-worker@1.service"}, {}},
      {{}, 0, {}, {}},
      {{"oos-worker@1.service"}, 3, {"oos-worker@2.service", "oos-worker@3.service"}, {}},
      {{"oos-worker@2.service"}, 3, {"oos-worker@1.service", "oos-worker@3.service"}, {}},  // gaps first
      {{"oos-worker@1.service", "oos-worker@2.service", "oos-worker@5.service"},
       1,
       {},
       {"oos-worker@5.service", "oos-worker@2.service"}},
      {{"oos-worker@1.service", "oos-worker@2.service"}, 2, {}, {}},
      // a hand-started instance with a name counts, and is never stopped
      {{"oos-worker@1.service", "oos-worker@debug.service"}, 3, {"oos-worker@2.service"}, {}},
      {{"oos-worker@1.service", "oos-worker@debug.service"}, 0, {}, {"oos-worker@1.service"}},
  };
  for (const auto& c : cases) {
    auto plan = plan_instances(k_template, c.running, c.desired);
    BOOST_TEST(plan.start == c.start, "desired " << c.desired);
    BOOST_TEST(plan.stop == c.stop, "desired " << c.desired);
  }
}

BOOST_AUTO_TEST_SUITE_END()
