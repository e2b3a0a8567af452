// The wake-up of an idle worker on PostgreSQL (docs/reference.md section 19): oos-queue's enqueue NOTIFYs, and an
// oos-worker waiting out a poll interval of 10 s starts the task well within a second, which only the notification
// can explain; with db.listen = false it waits for its poll. Against the throwaway cluster of support/pg_cluster.
#include <boost/test/unit_test.hpp>

#include <signal.h>

#include <chrono>
#include <thread>

#include "pg_support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace oos::test {
namespace {

// Lets `w` run for 300 ms (into its idle wait), collecting its output.
void settle(BackgroundProcess& w) {
  std::this_thread::sleep_for(300ms);
  w.pump();
}

// The tools of this test on a schema of their own (PgHosts); the handler `note` appends its payload to `ran`.
struct PgListen : PgHosts {
  fs::path ran = dir() / "ran";

  void configure(const std::string& db_table) {
    write_config(db_table + "[worker]\npoll_interval = \"10s\"\n" +
                 handler_toml("note", write_script("note.sh", "cat >> " + ran.string() + "\n")));
  }
  // Starts a worker and waits until it logged `mode` (its first idle wait) and sat in its wait for a moment.
  std::unique_ptr<BackgroundProcess> idle_worker(const std::string& mode) {
    BOOST_TEST_REQUIRE(queue({"status"}).exit_code == 0);  // the schema is migrated before the worker starts
    auto w = start_worker({"--name", "listen-1"});
    BOOST_TEST_REQUIRE(eventually([&] { return w->err().find(mode) != std::string::npos; }, scaled(10s), {w.get()}),
                       w->err());
    settle(*w);
    return w;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_listen)

BOOST_FIXTURE_TEST_CASE(an_idle_worker_starts_a_new_task_well_before_its_poll_interval, PgListen) {
  configure("");
  auto w = idle_worker("waiting for work by LISTEN on 'oos_tasks'");
  for (int i = 1; i <= 3; ++i) {
    const std::string payload = "{\"n\":" + std::to_string(i) + "}";
    auto enqueued = queue({"enqueue", "default", "note", "--data", payload});
    BOOST_TEST_REQUIRE(enqueued.exit_code == 0, enqueued.err);
    const auto start = std::chrono::steady_clock::now();
    BOOST_TEST_REQUIRE(eventually([&] { return fs::exists(ran) && read_file(ran).find(payload) != std::string::npos; },
                                  scaled(9s), {w.get()}),
                       w->err());
    const auto waited = std::chrono::steady_clock::now() - start;
    // A poll would take 10 s; the notification takes milliseconds (the handler's start included).
    BOOST_TEST(waited < 1s, "task " << i << " ran after "
                                    << std::chrono::duration_cast<std::chrono::milliseconds>(waited).count() << " ms");
    settle(*w);  // back in its wait
  }
  w->signal(SIGTERM);
  BOOST_TEST(w->wait(scaled(10s)) == 0, w->err());
}

BOOST_FIXTURE_TEST_CASE(with_listen_off_an_idle_worker_waits_for_its_poll, PgListen) {
  configure("[db]\nlisten = false\n");
  auto w = idle_worker("waiting for work by polling every 10s (db.listen = false)");
  auto enqueued = queue({"enqueue", "default", "note", "--data", R"({"n":1})"});
  BOOST_TEST_REQUIRE(enqueued.exit_code == 0, enqueued.err);
  std::this_thread::sleep_for(2s);
  w->pump();
  BOOST_TEST(!fs::exists(ran), "the task ran before the poll: " << w->err());
  w->signal(SIGTERM);
  BOOST_TEST(w->wait(scaled(10s)) == 0, w->err());
  BOOST_TEST(w->err().find("LISTEN") == std::string::npos, w->err());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace oos::test
