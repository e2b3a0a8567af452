#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "util/progress.hpp"
#include "util/time.hpp"

using namespace oos::util;

BOOST_AUTO_TEST_SUITE(progress)

namespace {

constexpr std::uint64_t k_mib = 1 << 20;
constexpr std::uint64_t k_gib = 1ull << 30;

struct LineCase {
  ProgressReport report;
  double elapsed;
  std::string expected;
};

// A Progress on a manual clock whose output is kept, one string per write.
struct Terminal {
  ManualClock clock{1'700'000'000'000};
  std::vector<std::string> writes;
  Progress progress{"backup", Progress::Show::yes, clock, [this](std::string_view text) { writes.emplace_back(text); }};
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_line_shows_percent_amounts_rate_and_eta_or_only_the_time_without_a_total) {
  const std::vector<LineCase> cases{
      {{"copy", 1288490189, 2791728742, ProgressUnit::bytes},
       14.5,
       "backup copy: 46% 1.2 GiB of 2.6 GiB, 85 MiB/s, ETA 0:17"},
      // Before a second, no rate and no ETA: they would say more about start-up than about the work.
      {{"copy", 4 * k_mib, 100 * k_mib, ProgressUnit::bytes}, 0.3, "backup copy: 4% 4.0 MiB of 100 MiB"},
      {{"copy", 0, 100 * k_mib, ProgressUnit::bytes}, 5, "backup copy: 0% 0 B of 100 MiB"},
      {{"copy", 512, 1000, ProgressUnit::bytes}, 0.1, "backup copy: 51% 512 B of 1000 B"},
      {{"", 1200, 5000, ProgressUnit::tasks}, 3, "backup: 24% 1200 of 5000 tasks, 400 tasks/s, ETA 0:10"},
      {{"copy", 3000, 12000, ProgressUnit::pages}, 2, "backup copy: 25% 3000 of 12000 pages, 1500 pages/s, ETA 0:06"},
      // Done beyond the total (a source that grew) is shown as the total.
      {{"copy", 11 * k_gib, 10 * k_gib, ProgressUnit::bytes},
       10,
       "backup copy: 100% 10 GiB of 10 GiB, 1.0 GiB/s, ETA 0:00"},
      {{"copy", 0, 0, ProgressUnit::bytes}, 0, "backup copy: 100% 0 B of 0 B"},
      {{"integrity check", 0, std::nullopt, ProgressUnit::bytes}, 12.7, "backup integrity check: 0:12 elapsed"},
      {{"", 0, std::nullopt, ProgressUnit::bytes}, 3725, "backup: 1:02:05 elapsed"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.expected) {
      BOOST_TEST(format_progress("backup", c.report, c.elapsed) == c.expected);
    }
  }
}

BOOST_AUTO_TEST_CASE(format_clock_shows_minutes_and_seconds_and_hours_past_an_hour) {
  BOOST_TEST(format_clock(0) == "0:00");
  BOOST_TEST(format_clock(7.9) == "0:07");
  BOOST_TEST(format_clock(725) == "12:05");
  BOOST_TEST(format_clock(3600) == "1:00:00");
  BOOST_TEST(format_clock(-5) == "0:00");
}

BOOST_AUTO_TEST_CASE(the_line_is_redrawn_in_place_at_most_every_200_ms) {
  Terminal t;
  ProgressReport report{"copy", 10, 100, ProgressUnit::pages};
  t.progress.report(report);  // the first draws at once
  BOOST_TEST_REQUIRE(t.writes.size() == 1u);
  BOOST_TEST(t.writes[0] == "\rbackup copy: 10% 10 of 100 pages\x1b[K");
  t.clock.advance(199);
  report.done = 20;
  t.progress.report(report);
  BOOST_TEST(t.writes.size() == 1u);
  t.clock.advance(1);
  report.done = 30;
  t.progress.report(report);
  BOOST_TEST_REQUIRE(t.writes.size() == 2u);
  BOOST_TEST(t.writes[1] == "\rbackup copy: 30% 30 of 100 pages\x1b[K");
  for (int i = 0; i < 100; ++i) t.progress.report(report);  // no time passes: no redraw
  BOOST_TEST(t.writes.size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_new_stage_is_drawn_at_once_and_its_time_counts_from_its_start) {
  Terminal t;
  t.clock.advance(5000);
  t.progress.report({"copy", 50, 100, ProgressUnit::pages});
  BOOST_TEST(t.writes.back() == "\rbackup copy: 50% 50 of 100 pages, 10 pages/s, ETA 0:05\x1b[K");
  t.clock.advance(10);
  t.progress.report({"integrity check", 0, std::nullopt, ProgressUnit::bytes});
  BOOST_TEST_REQUIRE(t.writes.size() == 2u);
  BOOST_TEST(t.writes.back() == "\rbackup integrity check: 0:00 elapsed\x1b[K");
  t.clock.advance(3000);
  t.progress.report({"integrity check", 0, std::nullopt, ProgressUnit::bytes});
  BOOST_TEST(t.writes.back() == "\rbackup integrity check: 0:03 elapsed\x1b[K");
}

BOOST_AUTO_TEST_CASE(finish_clears_a_drawn_line_once_and_nothing_when_none_was_drawn) {
  Terminal t;
  t.progress.finish();
  BOOST_TEST(t.writes.empty());
  t.progress.report({"copy", 1, 2, ProgressUnit::pages});
  t.progress.finish();
  t.progress.finish();
  BOOST_TEST_REQUIRE(t.writes.size() == 2u);
  BOOST_TEST(t.writes[1] == "\r\x1b[K");
}

BOOST_AUTO_TEST_CASE(the_destructor_clears_the_line_of_work_that_ended_by_an_exception) {
  ManualClock clock{0};
  std::vector<std::string> writes;
  {
    Progress progress("restore", Progress::Show::yes, clock, [&](std::string_view text) { writes.emplace_back(text); });
    progress.callback()({"stage", 1, 2, ProgressUnit::bytes});
  }
  BOOST_TEST_REQUIRE(writes.size() == 2u);
  BOOST_TEST(writes[1] == "\r\x1b[K");
}

BOOST_AUTO_TEST_CASE(not_shown_it_writes_nothing_and_hands_out_no_callback) {
  ManualClock clock{0};
  std::vector<std::string> writes;
  {
    Progress progress("backup", Progress::Show::no, clock, [&](std::string_view text) { writes.emplace_back(text); });
    BOOST_TEST(!progress.callback());
    progress.report({"copy", 1, 2, ProgressUnit::pages});
    progress.finish();
  }
  BOOST_TEST(writes.empty());
}

BOOST_AUTO_TEST_CASE(machine_output_never_shows_progress) {
  // Whether stderr is a terminal here depends on how the tests run; --json turns it off either way.
  BOOST_TEST((progress_on_stderr(true) == Progress::Show::no));
}

BOOST_AUTO_TEST_SUITE_END()
