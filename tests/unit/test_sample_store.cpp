// SampleStore on a real SQLite file, and take_sample on files in the formats of /proc.
#include <boost/test/unit_test.hpp>

#include <memory>

#include "db/database.hpp"
#include "samples.hpp"
#include "scale/sampling.hpp"
#include "store/sqlite_sample_store.hpp"
#include "store_fixture.hpp"

using namespace oos;
using oos::test::loads;
using oos::test::sample;

namespace {

constexpr util::UnixMillis k_t0 = 1'800'000'000'000;

struct SampleFixture : test::StoreFixture {
  store::SqliteSampleStore store{*db};

  long long count() { return db->raw().execAndGet("SELECT count(*) FROM samples").getInt64(); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(sample_store)

BOOST_FIXTURE_TEST_CASE(a_recorded_sample_reads_back_with_every_field, SampleFixture) {
  auto s = sample(k_t0, 3.25, 412);
  s.psi_some_avg10 = 1.53;
  store.record(s);
  store.record(sample(k_t0 + 1000, 1.0));  // no PSI
  auto all = store.since(k_t0);
  BOOST_REQUIRE(all.size() == 2u);
  BOOST_TEST(all[0].at == k_t0);
  BOOST_TEST(all[0].load1 == 3.25);
  BOOST_TEST(all[0].memory_available_percent == 42.5);
  BOOST_REQUIRE(all[0].psi_some_avg10.has_value());
  BOOST_TEST(*all[0].psi_some_avg10 == 1.53);
  BOOST_TEST(all[0].runnable == 412);
  BOOST_TEST(!all[1].psi_some_avg10.has_value());
  BOOST_TEST(db->raw().execAndGet("SELECT count(*) FROM samples WHERE psi_some_avg10 IS NULL").getInt() == 1);
}

BOOST_FIXTURE_TEST_CASE(since_is_inclusive_and_oldest_first_whatever_the_recording_order, SampleFixture) {
  store.record(sample(k_t0 + 3000, 3));
  store.record(sample(k_t0 + 1000, 1));
  store.record(sample(k_t0 + 2000, 2));
  store.record(sample(k_t0, 0));
  BOOST_TEST(loads(store.since(k_t0 + 1000)) == (std::vector<double>{1, 2, 3}));
  BOOST_TEST(loads(store.since(k_t0 + 3001)).empty());
}

BOOST_FIXTURE_TEST_CASE(latest_before_is_the_newest_at_or_before, SampleFixture) {
  BOOST_TEST(!store.latest_before(k_t0).has_value());
  store.record(sample(k_t0, 0));
  store.record(sample(k_t0 + 1000, 1));
  store.record(sample(k_t0 + 2000, 2));
  BOOST_TEST(!store.latest_before(k_t0 - 1).has_value());
  BOOST_TEST(store.latest_before(k_t0 + 1000)->load1 == 1);  // "at or before": inclusive
  BOOST_TEST(store.latest_before(k_t0 + 1999)->load1 == 1);
  BOOST_TEST(store.latest_before(k_t0 + 99999)->load1 == 2);
}

BOOST_FIXTURE_TEST_CASE(history_is_the_anchor_and_everything_after_it, SampleFixture) {
  for (int i = 0; i <= 6; ++i) store.record(sample(k_t0 + i * 60'000, i));
  // The window starts at minute 1.5: the anchor is minute 1, then minutes 2 to 6.
  BOOST_TEST(loads(store.history(k_t0 + 90'000)) == (std::vector<double>{1, 2, 3, 4, 5, 6}));
  // Starting exactly on a sample: it is the anchor, and it appears once.
  BOOST_TEST(loads(store.history(k_t0 + 120'000)) == (std::vector<double>{2, 3, 4, 5, 6}));
  // Before every sample: no anchor, just the samples.
  BOOST_TEST(loads(store.history(k_t0 - 1)) == (std::vector<double>{0, 1, 2, 3, 4, 5, 6}));
}

BOOST_FIXTURE_TEST_CASE(prune_deletes_only_the_older_samples_and_counts_them, SampleFixture) {
  for (int i = 0; i < 5; ++i) store.record(sample(k_t0 + i * 1000, i));
  BOOST_TEST(store.prune(k_t0 + 2000) == 2);
  BOOST_TEST(loads(store.since(0)) == (std::vector<double>{2, 3, 4}));
  BOOST_TEST(store.prune(k_t0 + 2000) == 0);
}

BOOST_FIXTURE_TEST_CASE(samples_survive_reopening_the_database, SampleFixture) {
  store.record(sample(k_t0, 7));
  db.reset();
  auto again = open();
  BOOST_TEST(store::SqliteSampleStore(*again).since(0).size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(take_sample_reads_the_three_files, SampleFixture) {
  oos::test::write_file(dir / "loadavg", "6.20 3.14 2.97 7/120 5757\n");
  oos::test::write_file(dir / "meminfo", "MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    250 kB\n");
  oos::test::write_file(dir / "memory",
                        "some avg10=12.50 avg60=3.00 avg300=1.00 total=9\n"
                        "full avg10=2.00 avg60=1.00 avg300=0.50 total=3\n");
  scale::SampleSources sources{dir / "loadavg", dir / "meminfo", dir / "memory"};
  auto s = scale::take_sample(k_t0, 412, sources);
  BOOST_REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error()));
  BOOST_TEST(s->at == k_t0);
  BOOST_TEST(s->load1 == 6.2);
  BOOST_TEST(s->memory_available_percent == 25.0);
  BOOST_REQUIRE(s->psi_some_avg10.has_value());
  BOOST_TEST(*s->psi_some_avg10 == 12.5);
  BOOST_TEST(s->runnable == 412);

  // No PSI on this kernel: the sample simply has none.
  sources.pressure = dir / "no-such-file";
  s = scale::take_sample(k_t0, 0, sources);
  BOOST_REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error()));
  BOOST_TEST(!s->psi_some_avg10.has_value());
}

BOOST_FIXTURE_TEST_CASE(take_sample_fails_naming_the_file_that_cannot_be_read, SampleFixture) {
  oos::test::write_file(dir / "loadavg", "6.20 3.14 2.97 7/120 5757\n");
  scale::SampleSources sources{dir / "loadavg", dir / "meminfo", dir / "memory"};
  auto s = scale::take_sample(k_t0, 0, sources);
  BOOST_REQUIRE(!s.has_value());
  BOOST_TEST(s.error() == "cannot read '" + (dir / "meminfo").string() + "': No such file or directory");
  sources.loadavg = dir / "nope";
  s = scale::take_sample(k_t0, 0, sources);
  BOOST_REQUIRE(!s.has_value());
  BOOST_TEST(s.error().find((dir / "nope").string()) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(take_sample_works_on_this_machine) {
  auto s = scale::take_sample(k_t0, 3);
  BOOST_REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error()));
  BOOST_TEST(s->memory_available_percent > 0.0);
  BOOST_TEST(s->memory_available_percent <= 100.0);
}

BOOST_AUTO_TEST_SUITE_END()
