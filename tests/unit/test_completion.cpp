// The shell completion's pure parts: the spec of a command line (app/completion.hpp) and the id ranges of a typed
// prefix (queue/id_completion.hpp). The completion script itself runs in bash in cli.shell_completion.
#include <boost/test/unit_test.hpp>

#include <limits>
#include <string>
#include <vector>

#include "app/cli.hpp"
#include "app/completion.hpp"
#include "queue/id_completion.hpp"
#include "support/text.hpp"

using namespace oos;
using oos::queue::IdRange;

namespace {

bool has_line(const std::string& spec, const std::string& line) {
  for (const auto& l : oos::test::lines_of(spec))
    if (l == line) return true;
  return false;
}

constexpr queue::TaskId k_max = std::numeric_limits<queue::TaskId>::max();

}  // namespace

BOOST_AUTO_TEST_SUITE(completion)

BOOST_AUTO_TEST_CASE(the_spec_lists_verbs_options_and_positionals_with_what_completes_their_values) {
  CLI::App app{"test", "oos-test"};
  app::CommonOptions common;
  app::add_common_options(app, common);
  std::string queue_name;
  std::string state;
  std::int64_t id = 0;
  std::vector<std::int64_t> ids;
  bool json = false;
  auto* list = app.add_subcommand("list", "List");
  list->add_option("queue", queue_name, "Queue")->check(app::k_name);
  list->add_option("--status", state, "Status")->check(CLI::IsMember({"pending", "dead"}));
  list->add_flag("--json", json, "JSON");
  auto* show = app.add_subcommand("show", "Show");
  show->add_option("id", id, "Task id")->check(app::k_task_id);
  show->add_option("--queue", queue_name, "Queue");
  auto* requeue = app.add_subcommand("requeue", "Requeue");
  requeue->add_option("ids", ids, "Task ids")->check(app::k_task_id);
  auto* hidden = app.add_subcommand("__words", "Hidden")->group("");
  hidden->add_option("--secret", state, "Hidden option");
  app.add_flag("--hidden-flag", json, "Hidden")->group("");

  auto spec = app::completion_spec(app);
  BOOST_TEST(has_line(spec, "sub - list"));
  BOOST_TEST(has_line(spec, "sub - show"));
  BOOST_TEST(has_line(spec, "opt - --config file"));
  BOOST_TEST(has_line(spec, "opt - --state-dir dir"));
  BOOST_TEST(has_line(spec, "opt - --log-level any"));
  BOOST_TEST(has_line(spec, "opt - --version -"));
  BOOST_TEST(has_line(spec, "opt - --help -"));
  BOOST_TEST(has_line(spec, "pos list queue queue 1"));
  BOOST_TEST(has_line(spec, "opt list --status choice:pending,dead"));
  BOOST_TEST(has_line(spec, "opt list --json -"));
  BOOST_TEST(has_line(spec, "pos show id id 1"));
  BOOST_TEST(has_line(spec, "opt show --queue queue"));
  BOOST_TEST(has_line(spec, "pos requeue ids id n"));
  // What --help hides, the spec hides.
  BOOST_TEST(spec.find("__words") == std::string::npos);
  BOOST_TEST(spec.find("secret") == std::string::npos);
  BOOST_TEST(spec.find("hidden-flag") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_spec_flag_alone_prints_the_spec_and_stops) {
  CLI::App app{"test", "oos-test"};
  app.require_subcommand(1);
  app.add_subcommand("run", "Run");
  std::string arg0 = "oos-test";
  std::string arg1(app::k_completion_spec_flag);
  std::vector<char*> argv{arg0.data(), arg1.data()};
  std::ostringstream captured;
  auto* old = std::cout.rdbuf(captured.rdbuf());
  auto done = app::parse_command_line(app, 2, argv.data());
  std::cout.rdbuf(old);
  BOOST_TEST((done == std::optional<int>(0)));
  BOOST_TEST(has_line(captured.str(), "sub - run"));
}

BOOST_AUTO_TEST_CASE(a_prefix_gives_one_id_range_per_number_of_digits_highest_first) {
  using Ranges = std::vector<IdRange>;
  auto twelve = queue::id_prefix_ranges("12");
  BOOST_REQUIRE(twelve.size() == 18u);  // 12 to 12e17 - 12e17 is below 2^63, 12e18 is not
  BOOST_TEST((twelve.back() == IdRange{12, 12}));
  BOOST_TEST((twelve[twelve.size() - 2] == IdRange{120, 129}));
  BOOST_TEST((twelve.front() == IdRange{1'200'000'000'000'000'000, 1'299'999'999'999'999'999}));
  BOOST_TEST((queue::id_prefix_ranges("") == Ranges{{1, k_max}}));
  // The last range stops at the largest id.
  auto nine = queue::id_prefix_ranges("922337203685477580");
  BOOST_REQUIRE(nine.size() == 2u);
  BOOST_TEST((nine.front() == IdRange{9'223'372'036'854'775'800, k_max}));
  BOOST_TEST((queue::id_prefix_ranges("9223372036854775807") == Ranges{{k_max, k_max}}));
  BOOST_TEST(queue::id_prefix_ranges("9223372036854775808").empty());
  BOOST_TEST(queue::id_prefix_ranges("0").empty());
  BOOST_TEST(queue::id_prefix_ranges("07").empty());
  BOOST_TEST(queue::id_prefix_ranges("1a").empty());
  BOOST_TEST(queue::id_prefix_ranges("-1").empty());
}

BOOST_AUTO_TEST_SUITE_END()
