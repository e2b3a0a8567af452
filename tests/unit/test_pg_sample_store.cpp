// pg::PgSampleStore and schema version 2 against the throwaway PostgreSQL cluster (support/pg_cluster): oos-scale's
// samples in the shared database are each host's own, and a version 1 database migrates with its rows.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "pg/connection.hpp"
#include "pg/pg_sample_store.hpp"
#include "pg/schema.hpp"
#include "pg/values.hpp"
#include "samples.hpp"
#include "support/pg_cluster.hpp"
#include "support/printers.hpp"

using namespace oos;
using namespace oos::test;

namespace {

constexpr util::UnixMillis k_t0 = 1'800'000'000'000;

struct PgSampleFixture {
  PgSchema schema = PgCluster::instance().fresh_schema();
  pg::Connection connection{schema.conninfo()};

  long long count(const std::string& sql) { return pg::int_at(connection.exec_params(sql), 0, 0); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_sample_store)

BOOST_FIXTURE_TEST_CASE(a_version_1_database_migrates_to_2_and_keeps_its_samples, PgSampleFixture) {
  pg::migrate_to(connection, 1);
  BOOST_TEST_REQUIRE(pg::schema_version(connection) == 1);
  connection.exec_params(
      "INSERT INTO samples (at, load1, memory_available_percent, psi_some_avg10, runnable) VALUES ($1, 0.5, 80, NULL, "
      "7)",
      {pg::param(k_t0)});

  pg::migrate_to(connection, 2);
  BOOST_TEST(pg::schema_version(connection) == 2);
  // The old row belongs to no host's name; the stores read theirs by (host, at).
  BOOST_TEST(count("SELECT count(*) FROM samples WHERE host = '' AND runnable = 7") == 1);
  BOOST_TEST(count("SELECT count(*) FROM pg_indexes WHERE indexname = 'samples_by_host' AND schemaname = "
                   "current_schema()") == 1);
  BOOST_TEST(count("SELECT count(*) FROM pg_indexes WHERE indexname = 'samples_at' AND schemaname = "
                   "current_schema()") == 0);
  pg::PgSampleStore unnamed(connection, "");
  BOOST_TEST(unnamed.since(0).size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_recorded_sample_reads_back_with_every_field, PgSampleFixture) {
  pg::migrate(connection);
  pg::PgSampleStore store(connection, "host-a");
  auto s = sample(k_t0, 3.25, 412);
  s.memory_available_percent = 12.345678901234;
  s.psi_some_avg10 = 1.53;
  store.record(s);
  store.record(sample(k_t0 + 1000, 0.1));  // no PSI
  auto all = store.since(k_t0);
  BOOST_TEST_REQUIRE(all.size() == 2u);
  BOOST_TEST(all[0].at == k_t0);
  BOOST_TEST(all[0].load1 == 3.25);
  BOOST_TEST(all[0].memory_available_percent == 12.345678901234);  // exactly: the shortest text that reads back
  BOOST_TEST_REQUIRE(all[0].psi_some_avg10.has_value());
  BOOST_TEST(*all[0].psi_some_avg10 == 1.53);
  BOOST_TEST(all[0].runnable == 412);
  BOOST_TEST(all[1].load1 == 0.1);
  BOOST_TEST(!all[1].psi_some_avg10.has_value());
}

BOOST_FIXTURE_TEST_CASE(each_host_reads_and_prunes_only_its_own_samples, PgSampleFixture) {
  pg::migrate(connection);
  pg::PgSampleStore a(connection, "host-a");
  pg::PgSampleStore b(connection, "host-b");
  for (int i = 0; i < 3; ++i) {
    a.record(sample(k_t0 + i * 60'000, 1 + i));
    b.record(sample(k_t0 + i * 60'000 + 30'000, 10 + i));
  }
  BOOST_TEST(loads(a.since(0)) == (std::vector<double>{1, 2, 3}));
  BOOST_TEST(loads(b.since(0)) == (std::vector<double>{10, 11, 12}));
  // The window's anchor is the host's own newest sample at or before the start, not the other host's later one.
  BOOST_TEST(loads(a.history(k_t0 + 60'000 + 40'000)) == (std::vector<double>{2, 3}));
  BOOST_TEST(a.latest_before(k_t0 + 60'000 + 40'000)->load1 == 2);
  BOOST_TEST(!a.latest_before(k_t0 - 1).has_value());

  BOOST_TEST(a.prune(k_t0 + 2 * 60'000) == 2);
  BOOST_TEST(loads(a.since(0)) == (std::vector<double>{3}));
  BOOST_TEST(loads(b.since(0)) == (std::vector<double>{10, 11, 12}));  // host-b's oldest are older, and kept
}

BOOST_FIXTURE_TEST_CASE(a_host_that_stopped_has_its_samples_pruned_a_day_later_by_the_others, PgSampleFixture) {
  pg::migrate(connection);
  pg::PgSampleStore running(connection, "host-a");
  pg::PgSampleStore stopped(connection, "host-b");
  constexpr util::UnixMillis day = 24 * 60 * 60 * 1000;
  stopped.record(sample(k_t0, 10));
  stopped.record(sample(k_t0 + 60'000, 11));
  running.record(sample(k_t0 + day + 30'000, 1));
  // A cutoff less than a day after host-b's samples keeps them; a day and more after the older one removes it.
  BOOST_TEST(running.prune(k_t0 + day) == 0);
  BOOST_TEST(running.prune(k_t0 + day + 30'000) == 1);
  BOOST_TEST(loads(stopped.since(0)) == (std::vector<double>{11}));
  BOOST_TEST(loads(running.since(0)) == (std::vector<double>{1}));
}

BOOST_AUTO_TEST_SUITE_END()
