// The per-queue, per-status task counts (queue_counts, kept by the schema's triggers) and the status built on them:
// equal to counting the tasks after every kind of change the store makes, and read without walking the tasks.
#include <sqlite3.h>

#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "error.hpp"
#include "queue/sqlite_queue_store.hpp"
#include "queue/sqlite_task_store.hpp"
#include "store_fixture.hpp"

namespace oos::test {
namespace {

using queue::TaskStatus;

const std::vector<std::string> k_queues{"a", "b", "c"};

// The counts table against a count of the rows, as one comparable string each.
std::string counted(db::Database& db) {
  return db.raw()
      .execAndGet(
          "SELECT coalesce(group_concat(queue || '.' || status || '=' || n || '/' || retried, ' '), '') FROM "
          "(SELECT queue, status, count(*) AS n, sum(attempts > 0) AS retried FROM tasks GROUP BY 1, 2 ORDER BY 1, 2)")
      .getString();
}
std::string kept(db::Database& db) {
  return db.raw()
      .execAndGet(
          "SELECT coalesce(group_concat(queue || '.' || status || '=' || n || '/' || retried, ' '), '') FROM "
          "(SELECT * FROM queue_counts WHERE n != 0 OR retried != 0 ORDER BY 1, 2)")
      .getString();
}

// What status_of() showed before the counts: each figure counted over the queue's rows.
std::string status_by_scan(db::Database& db, const std::string& name, util::UnixMillis now) {
  SQLite::Statement q(db.raw(),
                      "SELECT (SELECT count(*) FROM tasks WHERE queue = ?1 AND status = 'pending'), "
                      "(SELECT count(*) FROM tasks WHERE queue = ?1 AND status = 'pending' AND run_at <= ?2), "
                      "(SELECT count(*) FROM tasks WHERE queue = ?1 AND status = 'pending' AND attempts > 0), "
                      "(SELECT count(*) FROM tasks WHERE queue = ?1 AND status = 'running'), "
                      "(SELECT count(*) FROM tasks WHERE queue = ?1 AND status = 'succeeded'), "
                      "(SELECT count(*) FROM tasks WHERE queue = ?1 AND status = 'dead'), "
                      "(SELECT count(*) FROM tasks WHERE queue = ?1 AND status = 'cancelled'), "
                      "(SELECT coalesce(min(run_at), -1) FROM tasks WHERE queue = ?1 AND status = 'pending' "
                      "AND run_at <= ?2)");
  q.bind(1, name);
  q.bind(2, static_cast<std::int64_t>(now));
  q.executeStep();
  std::string out;
  for (int i = 0; i < 8; ++i) out += std::to_string(q.getColumn(i).getInt64()) + " ";
  return out;
}
std::string status_shown(const queue::QueueStatus& s) {
  const auto& c = s.counts;
  return fmt::format("{} {} {} {} {} {} {} {} ", c.pending, c.runnable, c.retrying, c.running, c.succeeded, c.dead,
                     c.cancelled, c.oldest_runnable_since.value_or(-1));
}

// WAL with synchronous=normal: thousands of small transactions without an fsync each.
struct CountsFixture {
  TempDir dir;
  config::Config config;
  util::ManualClock clock{1'700'000'000'000};
  std::unique_ptr<log::Logger> logger = log::Logger::discard();
  std::unique_ptr<db::Database> db =
      std::make_unique<db::Database>(db::OpenOptions{dir / "oos.db", config::Synchronous::normal, util::Millis(2000)});
  queue::SqliteTaskStore store{*db, config, clock, *logger};
  queue::SqliteQueueStore view{*db, config, *logger};

  // Adds `n` pending tasks to queue `name` in one transaction, `delayed` of them not runnable for an hour.
  void fill(const std::string& name, int n, int delayed) {
    SQLite::Statement q(
        db->raw(),
        "WITH RECURSIVE i(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM i WHERE k < ?2) "
        "INSERT INTO tasks (queue, type, payload, status, run_at, max_attempts, created_at, updated_at) "
        "SELECT ?1, 't', '{}', 'pending', CASE WHEN k <= ?3 THEN ?4 + 3600000 ELSE ?4 - k END, 3, ?4, ?4 "
        "FROM i");
    q.bind(1, name);
    q.bind(2, n);
    q.bind(3, delayed);
    q.bind(4, static_cast<std::int64_t>(clock.now()));
    db->raw().exec("BEGIN");
    q.exec();
    db->raw().exec("INSERT OR IGNORE INTO queues (name, updated_at) VALUES ('" + name + "', 0)");
    db->raw().exec("COMMIT");
  }
};

int progress_tick(void* steps) {
  ++*static_cast<long*>(steps);
  return 0;
}

// SQLite virtual machine instructions `what` runs on this connection: grows with every row a statement walks.
template <class F>
long vm_steps(db::Database& db, F what) {
  long steps = 0;
  sqlite3_progress_handler(db.raw().getHandle(), 1, &progress_tick, &steps);
  what();
  sqlite3_progress_handler(db.raw().getHandle(), 0, nullptr, nullptr);
  return steps;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(queue_counts)

// A few thousand random operations of every kind that changes a task's status, attempts or existence, on three
// queues; after each, the counts equal a count of the rows, and status equals what counting the rows shows.
BOOST_FIXTURE_TEST_CASE(counts_equal_a_count_of_the_rows_after_every_operation, CountsFixture) {
  // No jitter: the retry times, and so the whole walk, follow from the seed alone (the refusals counted below
  // need a dead task whose key was taken meanwhile, which a different walk may never make).
  config.queue.backoff_jitter = 0;
  std::mt19937 rng(15);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  std::vector<queue::Lease> leases;
  auto new_task = [&] {
    queue::NewTask t;
    t.queue = k_queues[static_cast<std::size_t>(pick(3))];
    t.type = "t";
    t.priority = pick(3);
    t.max_attempts = 1 + pick(3);
    if (pick(4) == 0) t.delay = util::Millis(pick(10'000));
    if (pick(3) == 0) t.unique_key = "k" + std::to_string(pick(4));  // duplicates of active tasks are refused
    return t;
  };
  auto take_lease = [&]() -> std::optional<queue::Lease> {
    if (leases.empty()) return std::nullopt;
    auto i = static_cast<std::size_t>(pick(static_cast<int>(leases.size())));
    auto lease = leases[i];
    leases.erase(leases.begin() + static_cast<std::ptrdiff_t>(i));
    return lease;
  };
  auto some_id = [&](const char* status) -> std::optional<queue::TaskId> {
    SQLite::Statement count(db->raw(), "SELECT count(*) FROM tasks WHERE status = ?");
    count.bind(1, status);
    count.executeStep();
    auto n = count.getColumn(0).getInt();
    if (n == 0) return std::nullopt;
    SQLite::Statement q(db->raw(), "SELECT id FROM tasks WHERE status = ? ORDER BY id LIMIT 1 OFFSET ?");
    q.bind(1, status);
    q.bind(2, pick(n));
    q.executeStep();
    return q.getColumn(0).getInt64();
  };
  // A dead task whose unique key an active task holds now is refused (1, nothing requeued): the counts stay.
  int refused = 0;
  auto requeue = [&](std::span<const queue::TaskId> ids, const queue::DeadFilter& filter) -> bool {
    try {
      return !store.requeue(ids, filter, DryRun::no).empty();
    } catch (const Error& e) {
      BOOST_TEST_REQUIRE((e.code() == ExitCode::problem_reported), e.what());
      ++refused;
      return false;
    }
  };
  // Per kind of operation, the steps where it changed some task (a claim that found one, a fence applied, a task
  // reclaimed, requeued or purged): a kind that never acts would leave its triggers unchecked.
  std::vector<int> kinds_done(13, 0);
  std::set<std::string> seen;  // statuses the tasks were in after some step
  long retried_pending = 0;    // over all steps: retries waiting
  for (int step = 0; step < 3000; ++step) {
    int kind = pick(13);
    bool acted = false;
    switch (kind) {
      case 0: acted = store.enqueue(new_task()).created; break;
      case 1: {
        std::vector<queue::NewTask> batch;
        for (int i = 0, n = 1 + pick(5); i < n; ++i) batch.push_back(new_task());
        for (const auto& r : store.enqueue_batch(batch)) acted = acted || r.created;
        break;
      }
      case 2:
      case 3:
        if (auto c = store.claim(k_queues, "w")) {
          leases.push_back(c->lease);
          acted = true;
        }
        break;
      case 4:
        if (auto l = take_lease()) acted = store.complete(*l, "ok") == queue::Fence::applied;
        break;
      case 5:
        if (auto l = take_lease())
          acted = store.fail(*l, {policy::FailureKind::retryable, "again", 1}).fence == queue::Fence::applied;
        break;
      case 6:
        if (auto l = take_lease())
          acted = store.fail(*l, {policy::FailureKind::permanent, "never", 2}).fence == queue::Fence::applied;
        break;
      case 7:
        if (auto l = take_lease()) acted = store.release(*l) == queue::Fence::applied;
        break;
      case 8:
        if (auto l = take_lease()) {
          queue::RunRecord run;
          run.succeeded = pick(2) == 0;
          run.failure = {policy::FailureKind::retryable, "again", 1};
          auto r = store.record_and_claim(*l, run, k_queues, "w");
          acted = r.recorded.fence == queue::Fence::applied;
          if (r.next) leases.push_back(r.next->lease);
        }
        break;
      case 9:  // leases held now expire: reclaimed as lost runs (and the stale leases are refused later)
        if (pick(8) == 0) {
          clock.advance(config.queue_settings("a").lease.count() + 1);
          acted = store.reclaim_expired() > 0;
        }
        break;
      case 10:
        if (auto id = some_id(pick(2) == 0 ? "dead" : "pending")) {
          if (store.find(*id)->status == TaskStatus::dead) {
            const std::array<queue::TaskId, 1> ids{*id};
            acted = requeue(ids, {});
          } else {
            store.cancel(*id);
            acted = true;
          }
        } else if (pick(2) == 0) {
          queue::DeadFilter filter;
          filter.queue = k_queues[static_cast<std::size_t>(pick(3))];
          acted = requeue({}, filter);
        }
        break;
      case 11:
        if (pick(4) == 0) {
          queue::PurgeOptions purge;
          purge.older_than = util::Millis(pick(20'000));
          purge.dead = pick(3) != 0;
          auto purged = store.purge(purge);
          acted = purged.dead + purged.succeeded > 0;
        }
        break;
      default:
        clock.advance(pick(3000));
        acted = true;
        break;
    }
    if (acted) ++kinds_done[static_cast<std::size_t>(kind)];
    BOOST_TEST_INFO("step " << step << ", operation " << kind);
    auto now_counted = counted(*db);
    BOOST_REQUIRE_EQUAL(kept(*db), now_counted);
    for (const auto* status : {"pending", "running", "succeeded", "dead", "cancelled"})
      if (now_counted.find(std::string(".") + status + "=") != std::string::npos) seen.insert(status);
    retried_pending +=
        db->raw().execAndGet("SELECT count(*) FROM tasks WHERE status = 'pending' AND attempts > 0").getInt();
    if (step % 10 == 0 || kind == 9 || kind == 12) {
      for (const auto& s : view.status(clock.now())) {
        BOOST_TEST_INFO("step " << step << ", queue " << s.name);
        BOOST_REQUIRE_EQUAL(status_shown(s), status_by_scan(*db, s.name, clock.now()));
      }
      BOOST_REQUIRE_EQUAL(store.runnable_count(k_queues),
                          db->raw()
                              .execAndGet(fmt::format(
                                  "SELECT count(*) FROM tasks WHERE status = 'pending' AND run_at <= {}", clock.now()))
                              .getInt64());
    }
  }
  for (std::size_t kind = 0; kind < kinds_done.size(); ++kind)
    BOOST_TEST(kinds_done[kind] >= 10, "operation " << kind << " changed a task in " << kinds_done[kind] << " steps");
  BOOST_TEST(refused > 0);
  BOOST_TEST(seen.size() == 5U);
  BOOST_TEST(retried_pending > 0);
}

// A rolled-back write leaves the counts as they were: they change in the statement that changes the task.
BOOST_FIXTURE_TEST_CASE(a_rolled_back_change_leaves_the_counts_unchanged, CountsFixture) {
  fill("a", 3, 0);
  auto before = kept(*db);
  {
    db::WriteTransaction tx(*db);
    db->raw().exec("UPDATE tasks SET status = 'running', attempts = 1");
    db->raw().exec("DELETE FROM tasks WHERE id = 1");
    // Inside the transaction the counts have followed (else the rollback below would have nothing to undo).
    BOOST_TEST(kept(*db) == counted(*db));
    BOOST_TEST(kept(*db) != before);
  }  // no commit
  BOOST_TEST(kept(*db) == before);
  BOOST_TEST(kept(*db) == counted(*db));
}

// Status reads the same number of SQLite instructions for 100 pending tasks as for 20,000: it counts nothing
// row by row. Only the delayed tasks are walked (runnable = pending - delayed), so both fills have the same 10.
BOOST_FIXTURE_TEST_CASE(status_does_not_grow_with_the_pending_tasks, CountsFixture) {
  fill("a", 100, 10);
  auto small = vm_steps(*db, [&] { view.status(clock.now()); });
  auto small_runnable = vm_steps(*db, [&] { store.runnable_count(k_queues); });
  fill("a", 19'900, 0);
  auto large = vm_steps(*db, [&] { view.status(clock.now()); });
  auto large_runnable = vm_steps(*db, [&] { store.runnable_count(k_queues); });
  BOOST_TEST(large == small);
  BOOST_TEST(large_runnable == small_runnable);
  auto s = view.status(clock.now());
  BOOST_REQUIRE(s.size() == 1);
  BOOST_TEST(s[0].counts.pending == 20'000);
  BOOST_TEST(s[0].counts.runnable == 19'990);
  BOOST_TEST(status_shown(s[0]) == status_by_scan(*db, "a", clock.now()));
}

// No statement that status, stats or runnable_count runs scans the tasks table (EXPLAIN QUERY PLAN of each, as
// SQLite traced them with their bound values).
BOOST_FIXTURE_TEST_CASE(no_status_query_scans_the_tasks_table, CountsFixture) {
  fill("a", 1000, 5);
  fill("b", 10, 0);
  auto statements = oos::test::statements_run(*db, [&] {
    view.status(clock.now());
    BOOST_TEST(view.stats("a", clock.now()).has_value());
    store.runnable_count(k_queues);
  });
  BOOST_TEST(statements.size() >= 8U);
  int on_tasks = 0;
  for (const auto& sql : statements) {
    BOOST_TEST_CONTEXT(sql) {
      SQLite::Statement plan(db->raw(), "EXPLAIN QUERY PLAN " + sql);
      while (plan.executeStep()) {
        auto detail = plan.getColumn(3).getString();
        BOOST_TEST(detail.find("SCAN tasks") == std::string::npos, detail);
        if (detail.find("SEARCH tasks") != std::string::npos) ++on_tasks;
      }
    }
  }
  BOOST_TEST(on_tasks >= 3);  // the oldest pending task and the delayed ones, per queue and for runnable_count
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace oos::test
