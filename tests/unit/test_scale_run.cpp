// oos-scale's acting side in-process: scale::apply and scale::run against a fake systemd manager that records
// which units are started, stopped and signalled, on a real SQLite file and fake /proc files.
#include <boost/test/unit_test.hpp>

#include <fnmatch.h>

#include <csignal>
#include <string>
#include <vector>

#include "error.hpp"
#include "queue/sqlite_worker_registry.hpp"
#include "scale/apply.hpp"
#include "scale/run.hpp"
#include "store/sqlite_backend.hpp"
#include "store_fixture.hpp"

using namespace oos;
using Names = std::vector<std::string>;

namespace {

// systemd's manager as a list of units; records every call that would change something.
class FakeUnitManager : public sd::UnitManager {
 public:
  std::vector<sd::UnitState> units;
  Names calls;          // "start U", "stop U", "signal U 10"
  std::string fail_on;  // a unit whose start or stop fails as systemd's refusal does

  std::vector<sd::UnitState> list(const std::string& pattern) override {
    std::vector<sd::UnitState> out;
    for (const auto& unit : units)
      if (::fnmatch(pattern.c_str(), unit.name.c_str(), 0) == 0) out.push_back(unit);
    return out;
  }
  void start(const std::string& unit) override { call("start " + unit, unit); }
  void stop(const std::string& unit) override { call("stop " + unit, unit); }
  void signal_main(const std::string& unit, int signal) override {
    call("signal " + unit + " " + std::to_string(signal), unit);
  }

 private:
  void call(const std::string& what, const std::string& unit) {
    if (unit == fail_on) throw Error(ExitCode::unavailable, "systemd over D-Bus: " + what + " failed: Access denied");
    calls.push_back(what);
  }
};

std::string worker(int n) {
  return "oos-worker@" + std::to_string(n) + ".service";
}

const std::string k_usr1 = std::to_string(SIGUSR1);

// A database, /proc files for a quiet host with plenty of memory, and a fake manager with workers 1 and 2 up.
struct ScaleFixture : test::StoreFixture {
  store::SqliteBackend backend{*db, config, clock, *logger};
  FakeUnitManager manager;
  scale::SampleSources sources{dir / "loadavg", dir / "meminfo", dir / "pressure"};

  ScaleFixture() {
    host(0.5, 90);
    manager.units = {{worker(1), "active", "running"},
                     {worker(2), "activating", "start"},
                     {worker(3), "failed", "failed"},
                     {"oos-backup.service", "active", "running"}};
  }
  // The load average and the memory available (percent) the next sample reads.
  void host(double load1, int available_percent) {
    test::write_file(dir / "loadavg", std::to_string(load1) + " 0.10 0.10 1/100 4242\n");
    test::write_file(dir / "meminfo", "MemTotal:       1000000 kB\nMemAvailable:   " +
                                          std::to_string(available_percent * 10000) + " kB\n");
    test::write_file(dir / "pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
  }
  void enqueue(int n) {
    for (int i = 0; i < n; ++i) add();
  }
  scale::RunReport run(sd::UnitManager* with, DryRun dry_run) {
    return scale::run({backend, config, clock, *logger, dir.path(), dir / "backups", sources}, with, dry_run);
  }
  long long changed_events() { return sql_int("SELECT count(*) FROM events WHERE kind = 'scale.changed'"); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(scale_run)

BOOST_FIXTURE_TEST_CASE(running_instances_are_the_templates_units_that_are_up, ScaleFixture) {
  BOOST_TEST(scale::running_instances(manager, "oos-worker@.service") == (Names{worker(1), worker(2)}),
             boost::test_tools::per_element());
  BOOST_TEST(manager.calls.empty());
}

BOOST_FIXTURE_TEST_CASE(scaling_up_starts_the_lowest_free_instances_and_nothing_else, ScaleFixture) {
  auto actions = scale::apply(manager, {{worker(3), worker(4)}, {}}, {worker(1), worker(2)}, false, DryRun::no);
  BOOST_TEST(manager.calls == (Names{"start " + worker(3), "start " + worker(4)}), boost::test_tools::per_element());
  BOOST_TEST(actions == (Names{"start " + worker(3), "start " + worker(4)}), boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(under_memory_pressure_the_instances_that_stay_are_told_to_release_memory, ScaleFixture) {
  auto actions = scale::apply(manager, {{}, {worker(3)}}, {worker(1), worker(2), worker(3)}, true, DryRun::no);
  BOOST_TEST(manager.calls == (Names{"stop " + worker(3), "signal " + worker(1) + " " + k_usr1,
                                     "signal " + worker(2) + " " + k_usr1}),
             boost::test_tools::per_element());
  BOOST_TEST(actions == (Names{"stop " + worker(3), "release memory " + worker(1), "release memory " + worker(2)}),
             boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(a_dry_run_reports_the_same_actions_and_calls_nothing, ScaleFixture) {
  scale::InstancePlan plan{{worker(4)}, {worker(2)}};
  Names running{worker(1), worker(2)};
  auto dry = scale::apply(manager, plan, running, true, DryRun::yes);
  BOOST_TEST(manager.calls.empty());
  auto real = scale::apply(manager, plan, running, true, DryRun::no);
  BOOST_TEST(dry == real, boost::test_tools::per_element());
  BOOST_TEST(manager.calls.size() == 3u);
}

BOOST_FIXTURE_TEST_CASE(a_refused_call_stops_there_with_69, ScaleFixture) {
  manager.fail_on = worker(4);
  try {
    (void)scale::apply(manager, {{worker(3), worker(4), worker(5)}, {}}, {}, false, DryRun::no);
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    BOOST_TEST(static_cast<int>(e.code()) == 69);
  }
  BOOST_TEST(manager.calls == (Names{"start " + worker(3)}), boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(a_run_with_a_backlog_starts_workers_and_records_the_change, ScaleFixture) {
  enqueue(250);  // 3 workers at 100 tasks per worker; 1 and 2 are up
  auto report = run(&manager, DryRun::no);
  BOOST_TEST(report.current == 2);
  BOOST_TEST(report.decision.desired == 3);
  BOOST_TEST(report.applied);
  BOOST_TEST(manager.calls == (Names{"start " + worker(3)}), boost::test_tools::per_element());
  BOOST_TEST(report.summary.starts_with("workers 2 -> 3: "), report.summary);
  BOOST_TEST(report.summary.ends_with(" (start " + worker(3) + ")"), report.summary);
  BOOST_TEST(report.sample.runnable == 250);
  BOOST_TEST(sql_int("SELECT count(*) FROM samples WHERE runnable = 250") == 1);
  BOOST_TEST(changed_events() == 1);
}

BOOST_FIXTURE_TEST_CASE(a_dry_run_decides_the_same_and_changes_no_unit, ScaleFixture) {
  enqueue(250);
  auto report = run(&manager, DryRun::yes);
  BOOST_TEST(report.decision.desired == 3);
  BOOST_TEST(!report.applied);
  BOOST_TEST(report.actions == (Names{"start " + worker(3)}), boost::test_tools::per_element());
  BOOST_TEST(manager.calls.empty());
  BOOST_TEST(report.summary.starts_with("not applied: workers 2 -> 3: "), report.summary);
  BOOST_TEST(changed_events() == 0);
}

BOOST_FIXTURE_TEST_CASE(an_idle_queue_stops_the_highest_instances_down_to_min_workers, ScaleFixture) {
  manager.units.push_back({worker(5), "active", "running"});
  auto report = run(&manager, DryRun::no);
  BOOST_TEST(report.decision.desired == 1);
  BOOST_TEST(manager.calls == (Names{"stop " + worker(5), "stop " + worker(2)}), boost::test_tools::per_element());
  BOOST_TEST(changed_events() == 1);
}

BOOST_FIXTURE_TEST_CASE(short_memory_stops_one_worker_and_tells_the_rest_to_release_memory, ScaleFixture) {
  host(0.5, 5);  // below memory_available_min_percent 10
  enqueue(250);
  auto report = run(&manager, DryRun::no);
  BOOST_TEST(report.decision.memory_pressure);
  BOOST_TEST(report.decision.desired == 1);
  BOOST_TEST(manager.calls == (Names{"stop " + worker(2), "signal " + worker(1) + " " + k_usr1}),
             boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(without_a_manager_the_fresh_heartbeats_are_counted_and_nothing_is_applied, ScaleFixture) {
  queue::SqliteWorkerRegistry registry(*db);
  registry.heartbeat("1", 10, "h", clock.now(), clock.now(), "idle", 0);
  registry.heartbeat("2", 11, "h", clock.now(), clock.now() - 10 * 60 * 1000, "idle", 0);  // stale
  enqueue(250);
  auto report = run(nullptr, DryRun::no);
  BOOST_TEST(report.current == 1);
  BOOST_TEST(report.decision.desired == 3);
  BOOST_TEST(!report.applied);
  BOOST_TEST(report.actions.empty());
  BOOST_TEST(changed_events() == 0);
}

BOOST_FIXTURE_TEST_CASE(a_host_that_cannot_be_sampled_is_74, ScaleFixture) {
  std::filesystem::remove(dir / "meminfo");
  try {
    run(&manager, DryRun::no);
    BOOST_FAIL("no error");
  } catch (const Error& e) {
    BOOST_TEST(static_cast<int>(e.code()) == 74);
    BOOST_TEST(std::string(e.what()).starts_with("cannot sample the host: "), e.what());
  }
  BOOST_TEST(manager.calls.empty());
}

BOOST_AUTO_TEST_SUITE_END()
