// policy/health: the verdicts of oos-health, table-driven over what it observed.
#include <boost/test/unit_test.hpp>

#include <functional>
#include <string>
#include <vector>

#include "policy/health.hpp"
#include "support/printers.hpp"

using namespace oos;
using policy::Health;
using policy::HealthInput;

BOOST_AUTO_TEST_SUITE(health)

namespace {

constexpr util::UnixMillis k_now = 1'800'000'000'000;
constexpr std::int64_t k_s = 1000;
constexpr std::int64_t k_h = 3600 * k_s;

// A healthy host: checked and backed up an hour ago, disks at half, one quiet queue, one live worker.
HealthInput healthy() {
  HealthInput in;
  in.now = k_now;
  in.database = "/var/lib/oos/oos.db";
  in.schema_version = 2;
  in.last_integrity_check = k_now - k_h;
  in.integrity_interval = util::Millis(24 * k_h);
  in.last_backup = k_now - k_h;
  in.last_backup_name = "oos-20270115T080000Z.db";
  in.backup_dir = "/var/lib/oos/backups";
  in.backup_interval = util::Millis(6 * k_h);
  in.disks = {{"/var/lib/oos", 50.0, ""}};
  in.disk_threshold_percent = 80;
  in.queues = {{.name = "default", .runnable = 3, .depth_alert = 1000}};
  in.runnable_for_workers = 3;
  in.workers = {{"1", 100, k_now - 5 * k_s, true}};
  in.configured_providers = {"google", "brave"};
  return in;
}

const policy::HealthCheck* find(const std::vector<policy::HealthCheck>& checks, const std::string& name) {
  for (const auto& c : checks)
    if (c.name == name) return &c;
  return nullptr;
}

struct Case {
  const char* name;
  std::function<void(HealthInput&)> induce;
  const char* check;  // the check that changes
  Health expected;    // its state, and the overall state
  const char* says;   // a piece of its message
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_healthy_host_is_ok_in_every_check) {
  auto checks = policy::assess(healthy());
  for (const auto& c : checks) BOOST_TEST_CONTEXT(c.name) {
      BOOST_TEST(c.status == Health::ok);
    }
  BOOST_TEST(checks.size() == 6u);  // database, integrity, backup, disk, queue default, workers
  BOOST_TEST(policy::overall(checks) == Health::ok);
  BOOST_TEST(policy::summary_line(checks) == "OOS OK - 6 checks ok");
}

BOOST_AUTO_TEST_CASE(each_induced_condition_changes_its_check_and_the_overall_state) {
  const std::vector<Case> cases{
      {"backup older than 2 intervals", [](auto& in) { in.last_backup = k_now - 13 * k_h; }, "backup", Health::warning,
       "13h00m old"},
      {"backup exactly 2 intervals old is still ok", [](auto& in) { in.last_backup = k_now - 12 * k_h; }, "backup",
       Health::ok, "12h00m ago"},
      {"backup older than 4 intervals", [](auto& in) { in.last_backup = k_now - 25 * k_h; }, "backup", Health::critical,
       "1d01h old"},
      {"no backup at all", [](auto& in) { in.last_backup.reset(); }, "backup", Health::warning, "oos-backup create"},
      {"integrity never checked", [](auto& in) { in.last_integrity_check.reset(); }, "integrity", Health::warning,
       "never checked"},
      {"integrity check older than 2 intervals", [](auto& in) { in.last_integrity_check = k_now - 49 * k_h; },
       "integrity", Health::warning, "2d01h ago"},
      {"integrity check older than 4 intervals", [](auto& in) { in.last_integrity_check = k_now - 97 * k_h; },
       "integrity", Health::critical, "4d01h ago"},
      {"recovered from a backup within the interval", [](auto& in) { in.last_recovery = k_now - 2 * k_h; }, "integrity",
       Health::warning, "recovered from a backup 2h00m ago"},
      {"a recovery long ago is history", [](auto& in) { in.last_recovery = k_now - 30 * k_h; }, "integrity", Health::ok,
       "last check ok"},
      {"disk at the cleanup threshold", [](auto& in) { in.disks[0].used_percent = 80; }, "disk /var/lib/oos",
       Health::warning, "80% used"},
      {"disk nearly full", [](auto& in) { in.disks[0].used_percent = 96; }, "disk /var/lib/oos", Health::critical,
       "96% used"},
      {"disk not measurable",
       [](auto& in) {
         in.disks[0] = {"/var/lib/oos", std::nullopt, "statvfs: denied"};
       },
       "disk /var/lib/oos", Health::unknown, "statvfs: denied"},
      {"queue deeper than its alert", [](auto& in) { in.queues[0].runnable = 1001; }, "queue default", Health::warning,
       "1001 runnable tasks, over queue.depth_alert 1000"},
      {"queue exactly at its alert", [](auto& in) { in.queues[0].runnable = 1000; }, "queue default", Health::ok,
       "1000 runnable"},
      {"breaker just opened",
       [](auto& in) {
         in.queues[0].breaker = policy::BreakerState::open;
         in.queues[0].breaker_opened_at = k_now - 60 * k_s;
       },
       "queue default", Health::warning, "breaker open for 1m00s"},
      {"breaker open for long",
       [](auto& in) {
         in.queues[0].breaker = policy::BreakerState::open;
         in.queues[0].breaker_opened_at = k_now - 11 * 60 * k_s;
       },
       "queue default", Health::critical, "oos-queue breaker default --reset"},
      {"dead letter growth",
       [](auto& in) {
         in.queues[0].dead = 7;
         in.queues[0].dead_recent = 2;
       },
       "queue default", Health::warning, "2 tasks dead-lettered in the last 1d (7 dead in all)"},
      {"old dead tasks alone are no growth", [](auto& in) { in.queues[0].dead = 7; }, "queue default", Health::ok,
       "7 dead"},
      {"stale heartbeat with runnable tasks", [](auto& in) { in.workers[0].heartbeat_at = k_now - 31 * k_s; },
       "workers", Health::critical, "silent for 31s while 3 tasks are runnable"},
      {"stale heartbeat with nothing runnable",
       [](auto& in) {
         in.workers[0].heartbeat_at = k_now - 31 * k_s;
         in.runnable_for_workers = 0;
       },
       "workers", Health::warning, "worker 1 (pid 100, process alive: hung?) silent for 31s"},
      {"heartbeat exactly at the limit is live", [](auto& in) { in.workers[0].heartbeat_at = k_now - 30 * k_s; },
       "workers", Health::ok, "1 running"},
      {"no worker while tasks are runnable", [](auto& in) { in.workers.clear(); }, "workers", Health::critical,
       "no worker is running and 3 tasks are runnable"},
      {"no worker and nothing to do",
       [](auto& in) {
         in.workers.clear();
         in.runnable_for_workers = 0;
       },
       "workers", Health::ok, "0 running"},
      {"one search provider's breaker open, even long",
       [](auto& in) {
         in.providers = {{"google", policy::BreakerState::open, k_now - 20 * 60 * k_s}};
       },
       "search google", Health::warning, "breaker open for 20m00s"},
      {"every configured provider down",
       [](auto& in) {
         in.providers = {{"google", policy::BreakerState::open, k_now - 60 * k_s},
                         {"brave", policy::BreakerState::half_open, k_now - 60 * k_s}};
       },
       "search brave", Health::critical, "breaker half_open"},
      {"a provider's quota spent",
       [](auto& in) {
         in.providers = {{"google", policy::BreakerState::closed, 0, 8000, 8000, true, k_now + k_h}};
       },
       "search google", Health::warning, "daily quota spent (8000 of 8000 used) until"},
      {"an unlimited provider that declared its day spent",
       [](auto& in) {
         in.providers = {{"google", policy::BreakerState::closed, 0, 3, 0, true, k_now + k_h}};
       },
       "search google", Health::warning, "daily quota spent (the provider said so after 3 requests) until"},
      {"a provider in use with quota left",
       [](auto& in) {
         in.providers = {{"google", policy::BreakerState::closed, 0, 12, 8000, false, k_now + k_h}};
       },
       "search google", Health::ok, "12 of 8000 requests used today"},
      {"quota spent on one, breaker open on the other",
       [](auto& in) {
         in.providers = {{"google", policy::BreakerState::closed, 0, 10, 10, true, k_now + k_h},
                         {"brave", policy::BreakerState::open, k_now - 60 * k_s}};
       },
       "search google", Health::critical, "daily quota spent"},
      {"database corrupt", [](auto& in) { in.database_problem = "oos.db is corrupt"; }, "database", Health::critical,
       "corrupt"},
      {"database unreadable",
       [](auto& in) {
         in.database_problem = "permission denied";
         in.database_problem_status = Health::unknown;
       },
       "database", Health::unknown, "permission denied"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      auto in = healthy();
      c.induce(in);
      auto checks = policy::assess(in);
      const auto* check = find(checks, c.check);
      BOOST_TEST_REQUIRE(check != nullptr);
      BOOST_TEST(check->status == c.expected);
      BOOST_TEST(check->message.find(c.says) != std::string::npos, check->message);
      BOOST_TEST(policy::overall(checks) == c.expected);
      auto summary = policy::summary_line(checks);
      BOOST_TEST(summary.starts_with("OOS " + std::string(policy::to_string(c.expected)) + " - "), summary);
      if (c.expected != Health::ok) BOOST_TEST(summary.find(check->message) != std::string::npos, summary);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_database_that_cannot_be_read_leaves_only_the_file_checks) {
  auto in = healthy();
  in.database_problem = "cannot read";
  auto checks = policy::assess(in);
  std::vector<std::string> names;
  for (const auto& c : checks) names.push_back(c.name);
  BOOST_TEST(names == (std::vector<std::string>{"database", "backup", "disk /var/lib/oos"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(critical_outranks_unknown_which_outranks_warning) {
  using policy::HealthCheck;
  auto overall = [](std::vector<Health> states) {
    std::vector<HealthCheck> checks;
    for (auto s : states) checks.push_back({"x", s, "m"});
    return policy::overall(checks);
  };
  BOOST_TEST(overall({}) == Health::ok);
  BOOST_TEST(overall({Health::ok, Health::warning}) == Health::warning);
  BOOST_TEST(overall({Health::warning, Health::unknown}) == Health::unknown);
  BOOST_TEST(overall({Health::unknown, Health::critical, Health::warning}) == Health::critical);
}

BOOST_AUTO_TEST_CASE(the_summary_lists_the_problems_worst_first) {
  std::vector<policy::HealthCheck> checks{
      {"backup", Health::warning, "old"}, {"database", Health::ok, "fine"}, {"workers", Health::critical, "silent"}};
  BOOST_TEST(policy::summary_line(checks) == "OOS CRITICAL - workers: silent; backup: old");
}

BOOST_AUTO_TEST_CASE(states_print_as_nagios_names_and_their_values_are_the_exit_codes) {
  BOOST_TEST(policy::to_string(Health::ok) == "OK");
  BOOST_TEST(policy::to_string(Health::warning) == "WARNING");
  BOOST_TEST(policy::to_string(Health::critical) == "CRITICAL");
  BOOST_TEST(policy::to_string(Health::unknown) == "UNKNOWN");
  BOOST_TEST(static_cast<int>(Health::unknown) == 3);
  BOOST_TEST(static_cast<int>(Health::critical) == 2);
}

BOOST_AUTO_TEST_CASE(perfdata_counts_and_ages_what_was_read) {
  auto in = healthy();
  in.queues[0].dead = 4;
  in.workers.push_back({"2", 101, k_now - 60 * k_s, false});  // stale: not counted
  BOOST_TEST(policy::perfdata(in) ==
             "runnable=3 dead=4 workers=1 integrity_age=3600s backup_age=3600s 'disk /var/lib/oos'=50%");
  in.database_problem = "cannot read";
  in.last_backup.reset();
  BOOST_TEST(policy::perfdata(in) == "'disk /var/lib/oos'=50%");
}

// On PostgreSQL: the server's checks instead of integrity and backup, each OK and its WARNING at its threshold.
BOOST_AUTO_TEST_CASE(on_postgresql_the_server_checks_replace_integrity_and_backup) {
  auto in = healthy();
  in.on_postgresql = true;
  in.database = "PostgreSQL at db.example:5432/oos";
  in.postgres.emplace();
  in.postgres->connections = 80;
  in.postgres->max_connections = 100;
  auto checks = policy::assess(in);
  std::vector<std::string> names;
  for (const auto& c : checks) names.push_back(c.name);
  BOOST_TEST(names == (std::vector<std::string>{"database", "postgres connections", "postgres transactions",
                                                "postgres clock", "disk /var/lib/oos", "queue default", "workers"}),
             boost::test_tools::per_element());
  BOOST_TEST(policy::overall(checks) == Health::ok, policy::summary_line(checks));
  BOOST_TEST(find(checks, "database")->message == "PostgreSQL at db.example:5432/oos connected, schema v2");

  auto warned = [&](const std::function<void(policy::PostgresHealth&)>& induce, const std::string& check) {
    auto changed = in;
    induce(*changed.postgres);
    auto result = policy::assess(changed);
    BOOST_TEST(policy::overall(result) == Health::warning, policy::summary_line(result));
    BOOST_TEST(find(result, check)->status == Health::warning);
    return find(result, check)->message;
  };
  auto connections = warned([](auto& pg) { pg.connections = 81; }, "postgres connections");
  BOOST_TEST(connections.find("81 of 100 connections in use (81%), over 80%") != std::string::npos, connections);
  auto transaction = warned(
      [](auto& pg) {
        pg.oldest_transaction = util::Millis(5 * 60 * k_s + 1);
        pg.oldest_transaction_holder = "pid 42 (psql, idle in transaction)";
      },
      "postgres transactions");
  BOOST_TEST(transaction.find("pid 42 (psql, idle in transaction)") != std::string::npos, transaction);
  BOOST_TEST(transaction.find("holds back vacuum") != std::string::npos, transaction);
  auto behind = warned([](auto& pg) { pg.clock_skew = util::Millis(-1001); }, "postgres clock");
  BOOST_TEST(behind.find("1001 ms behind this host's") != std::string::npos, behind);
  warned([](auto& pg) { pg.clock_skew = util::Millis(1001); }, "postgres clock");

  in.postgres->oldest_transaction = util::Millis(5 * 60 * k_s);  // at the threshold: still OK
  in.postgres->clock_skew = util::Millis(-1000);
  BOOST_TEST(policy::overall(policy::assess(in)) == Health::ok);
}

// Key rings: each key by fingerprint, available or cooling down until when, its uses today and last use; a ring
// whose every key cools down is a WARNING that says when the first is back and what to do.
BOOST_AUTO_TEST_CASE(a_key_ring_is_shown_by_fingerprint_and_warns_when_every_key_cools_down) {
  auto in = healthy();
  in.key_rings = {{"OPENROUTER_KEYS", {"llm"}, {}}};
  auto checks = policy::assess(in);
  BOOST_TEST(checks.back().name == "key ring OPENROUTER_KEYS");  // after the others
  BOOST_TEST(checks.back().status == Health::ok);
  BOOST_TEST(checks.back().message.starts_with("no key handed out yet"), checks.back().message);

  in.key_rings[0].keys = {{"3f2a9c1b0d4e5f60", k_now + k_h, 4, k_now - 60 * k_s},
                          {"9b1c00aa11bb22cc", 0, 1, k_now - 120 * k_s},
                          {"77aa00aa11bb22cc", k_now, 0, std::nullopt}};  // its cooldown ends now: back
  auto one_cooling = policy::key_ring_check(in.key_rings[0], k_now);
  BOOST_TEST(one_cooling.status == Health::ok);
  BOOST_TEST(one_cooling.message ==
             "2 of 3 keys available: 3f2a9c1b0d4e5f60 cooling down until 2027-01-15T09:00:00Z, 4 uses today, last "
             "used 2027-01-15T07:59:00Z; 9b1c00aa11bb22cc available, 1 use today, last used 2027-01-15T07:58:00Z; "
             "77aa00aa11bb22cc available, 0 uses today, never used");

  in.key_rings[0].keys[1].cooldown_until = k_now + 30 * 60 * k_s;
  in.key_rings[0].keys[2].cooldown_until = k_now + 2 * k_h;
  in.key_rings[0].handlers = {"llm", "summarise"};
  checks = policy::assess(in);
  BOOST_TEST(policy::overall(checks) == Health::warning);
  const auto& all = checks.back();
  BOOST_TEST(all.status == Health::warning);
  BOOST_TEST(all.message.starts_with("every key cools down; the first is back at 2027-01-15T08:30:00Z (in 30m00s): "
                                     "tasks of handlers llm, summarise wait until then; add a key to the secret "
                                     "OPENROUTER_KEYS (the next run takes it) or wait: 3f2a9c1b0d4e5f60 cooling down"),
             all.message);
  BOOST_TEST(policy::summary_line(checks).find("key ring OPENROUTER_KEYS: every key cools down") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_unreachable_postgresql_leaves_the_database_check_and_the_disks) {
  auto in = healthy();
  in.on_postgresql = true;
  in.database_problem = "cannot connect to PostgreSQL at db.example:5432/oos: connection refused";
  auto checks = policy::assess(in);
  std::vector<std::string> names;
  for (const auto& c : checks) names.push_back(c.name);
  BOOST_TEST(names == (std::vector<std::string>{"database", "disk /var/lib/oos"}), boost::test_tools::per_element());
  BOOST_TEST(policy::overall(checks) == Health::critical);
}

BOOST_AUTO_TEST_SUITE_END()
