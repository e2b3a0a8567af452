// Crashes at every step (docs/reliability.md): each command that rewrites the database or the backups is
// killed with SIGKILL at random moments across a measured uninterrupted run, OOS_CRASH_RUNS times (50), and
// after each kill: no partial backup is listed or verified, the live database is sound with consistent status
// counts, a restore that committed has its event, and the next run removes the temporary files left behind.
// The kill times come from a seeded RNG ($OOS_CRASH_SEED, else a fresh seed), printed with every failure.
#include <boost/test/unit_test.hpp>

#include <SQLiteCpp/Database.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "cli_support.hpp"

using nlohmann::json;
using oos::test::CliFixture;
namespace fs = std::filesystem;
using Micros = std::chrono::microseconds;

namespace {

// The random kills run against 1000 tasks with 1.5 KB payloads (a 2 MB database: commands that take long enough to
// be killed midway); the kills at each file step, whose place does not depend on the size, against 100.
constexpr int k_tasks = 1000;
constexpr int k_step_tasks = 100;

int crash_runs() {
  const char* runs = std::getenv("OOS_CRASH_RUNS");
  return runs && *runs ? std::max(1, std::atoi(runs)) : 50;
}

std::uint64_t crash_seed() {
  const char* seed = std::getenv("OOS_CRASH_SEED");
  return seed && *seed ? std::strtoull(seed, nullptr, 10) : std::random_device{}();
}

// The same database of `tasks` tasks for every test of the process: in queue "default", a third succeeded and a
// sixth dead, both finished 30 days ago (oos-cleanup purges them), and a tenth deleted (VACUUM has pages to free).
// Made once (through `f`, whose database it replaces) and copied.
const fs::path& template_database(CliFixture& f, int tasks) {
  static oos::test::TempDir dir;
  static std::map<int, fs::path> made;
  if (made.contains(tasks)) return made[tasks];
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(fs::path(f.db_path().string() + suffix));
  std::string lines;
  for (int i = 0; i < tasks; ++i)
    lines += R"({"type":"job","data":{"i":)" + std::to_string(i) + R"(,"pad":")" + std::string(1500, 'x') + "\"}}\n";
  auto enqueued = f.queue({"enqueue", "default", "--batch"}, lines);
  BOOST_TEST_REQUIRE(enqueued.exit_code == 0, enqueued.err);
  f.sql_exec(
      "UPDATE tasks SET status = 'succeeded', finished_at = created_at - 30 * 86400000 WHERE id % 3 = 0;"
      "UPDATE tasks SET status = 'dead', finished_at = created_at - 30 * 86400000 WHERE id % 6 = 1;"
      "DELETE FROM tasks WHERE id % 10 = 5 AND status = 'pending';"
      "PRAGMA wal_checkpoint(TRUNCATE);");
  auto file = dir / ("oos-" + std::to_string(tasks) + ".db");
  fs::copy_file(f.db_path(), file);
  return made[tasks] = file;
}

// A storm of kills against one fixture's state directory.
class Storm : public CliFixture {
 public:
  Storm() : m_seed(crash_seed()), m_random(m_seed) {
    BOOST_TEST_MESSAGE("crash_steps seed " << m_seed << " (rerun with OOS_CRASH_SEED=" << m_seed << ")");
    install_database();
  }

  // Replaces the live database (and its -wal/-shm) with a copy of the template.
  void install_database() {
    const auto& from = template_database(*this, m_tasks);
    for (const char* suffix : {"-wal", "-shm"}) fs::remove(fs::path(db_path().string() + suffix));
    fs::create_directories(state_dir());
    fs::copy_file(from, db_path(), fs::copy_options::overwrite_existing);
  }

  // From here on install_database() puts the small database (k_step_tasks) in place; puts it there now.
  void use_step_database() {
    m_tasks = k_step_tasks;
    install_database();
  }

  // Creates a backup (waiting out the one-per-second rule); its path.
  std::string create_backup() {
    for (int attempt = 0;; ++attempt) {
      auto created = backup({"create", "--json"});
      if (created.exit_code == 0) return json::parse(created.out)["path"].get<std::string>();
      BOOST_TEST_REQUIRE((created.exit_code == 75 && attempt < 3), created.err);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }

  // How long an uninterrupted run of `args` takes (the tool named by `binary_env`): the median of three runs
  // after `before_each`, each of which must end with one of `codes`.
  Micros measure(
      const char* binary_env, const std::vector<std::string>& args, std::set<int> codes = {0},
      const std::function<void()>& before_each = [] {}) {
    std::vector<Micros> took;
    for (int i = 0; i < 3; ++i) {
      before_each();
      auto started = std::chrono::steady_clock::now();
      auto process = start(binary_env, args);
      int code = process->wait(std::chrono::seconds(60));
      took.push_back(std::chrono::duration_cast<Micros>(std::chrono::steady_clock::now() - started));
      BOOST_TEST_REQUIRE(codes.contains(code), "uninterrupted run exited " << code << ": " << process->err());
    }
    std::sort(took.begin(), took.end());
    BOOST_TEST_MESSAGE("uninterrupted " << args.front() << ": " << took[1].count() / 1000 << " ms");
    return took[1];
  }

  // A kill time for run `run` of `runs` across [0, 1.1 × duration]: the runs are spread over equal slices (the
  // first at the very start, some past the end), each at a random point of its slice.
  Micros kill_time(Micros duration, int run, int runs) {
    double slice = 1.1 * static_cast<double>(duration.count()) / runs;
    std::uniform_real_distribution<double> within(0, slice);
    return Micros(run == 0 ? 0 : static_cast<std::int64_t>(slice * run + within(m_random)));
  }

  // Starts the tool and kills it with SIGKILL after `delay`; true when the kill landed before it exited.
  bool kill_after(const char* binary_env, const std::vector<std::string>& args, Micros delay) {
    auto process = start(binary_env, args);
    std::this_thread::sleep_for(delay);
    process->signal(SIGKILL);
    int code = process->wait(std::chrono::seconds(60));
    return code == 128 + SIGKILL;
  }

  // Kills the tool crash_runs() times at random moments across a measured uninterrupted run of it (each run ends
  // with one of `codes`): `before` runs ahead of every run, measured or killed, and `after` (given where) after
  // every kill. Returns the measured duration.
  Micros kill_at_random(const std::string& command, const char* binary_env, const std::vector<std::string>& args,
                        std::set<int> codes, const std::function<void()>& before,
                        const std::function<void(const std::string&)>& after) {
    int runs = crash_runs();
    auto duration = measure(binary_env, args, std::move(codes), before);
    for (int run = 0; run < runs; ++run) {
      before();
      auto delay = kill_time(duration, run, runs);
      m_interrupted += kill_after(binary_env, args, delay);
      after(at(command, run, delay));
    }
    return duration;
  }

  // The system calls that make a file step: SQLite's commits, our copies, renames and sweeps are made of these.
  static constexpr const char* k_file_calls =
      "rename,renameat,renameat2,link,linkat,unlink,unlinkat,mkdir,mkdirat,fsync,fdatasync,ftruncate";

  // Runs the tool under strace with `strace_options` (and the tool's own --state-dir and --config).
  oos::util::RunResult run_traced(const char* binary_env, const std::vector<std::string>& args,
                                  std::vector<std::string> strace_options) {
    std::vector<std::string> argv{"strace", "-f", "-qq"};
    argv.insert(argv.end(), strace_options.begin(), strace_options.end());
    argv.insert(argv.end(), {oos::test::binary_from_env(binary_env), "--state-dir", state_dir().string(), "--config",
                             config_path().string()});
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run(argv);
    BOOST_TEST_REQUIRE(r.exit_code != 127,
                       "strace is needed by this suite (scripts/install-deps installs it): " << r.err);
    return r;
  }

  // Kills the tool at each of its file steps in turn: it is run once under strace to learn which of
  // k_file_calls it makes, then for each of those calls killed (SIGKILL, by strace on entering the call) at its
  // 1st, 2nd, ... invocation until a run ends by itself. `before` runs ahead of every run and `after` (given
  // where) after it. Returns the number of steps killed at.
  int each_step(const std::string& command, const char* binary_env, const std::vector<std::string>& args,
                const std::function<void()>& before, const std::function<void(const std::string&)>& after) {
    auto trace = dir() / "steps.trace";
    before();
    run_traced(binary_env, args, {"-o", trace.string(), "-e", std::string("trace=") + k_file_calls});
    after(command + " run under strace");
    std::set<std::string> calls;
    std::istringstream lines(oos::test::read_file(trace));
    for (std::string line; std::getline(lines, line);) {
      auto open = line.find('(');
      auto start = line.find_first_not_of("0123456789 ");
      if (open != std::string::npos && start < open) calls.insert(line.substr(start, open - start));
    }
    BOOST_TEST_REQUIRE(!calls.empty(), command << ": strace saw no file step (is ptrace allowed here?): "
                                               << oos::test::read_file(trace));
    int steps = 0;
    for (const auto& call : calls)
      for (int n = 1; n < 1000; ++n) {
        before();
        auto r = run_traced(binary_env, args,
                            {"-o", "/dev/null", "-e", "trace=" + call, "-e",
                             "inject=" + call + ":signal=SIGKILL:when=" + std::to_string(n)});
        after(command + " killed entering its " + call + " number " + std::to_string(n));
        if (r.exit_code != 128 + SIGKILL) break;
        ++steps;
      }
    BOOST_TEST_MESSAGE(command << ": killed at each of its " << steps << " file steps");
    m_steps += steps;
    return steps;
  }

  // Where a failure happened, with what to rerun it.
  std::string at(const std::string& command, int run, Micros delay) const {
    return command + " run " + std::to_string(run) + " killed after " + std::to_string(delay.count() / 1000) +
           " ms (OOS_CRASH_SEED=" + std::to_string(m_seed) + ")";
  }

  // The files of `dir` whose name starts with '.' (temporary files of creates, restores, recoveries).
  static std::vector<std::string> hidden_files(const fs::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().filename().string().starts_with('.')) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  // Leftovers: hidden files beside the database and in the backup directory (every temporary name of a create,
  // restore or recovery starts with '.'), and manifests whose backup is missing.
  std::vector<std::string> leftovers() {
    auto out = hidden_files(state_dir());
    for (const auto& name : hidden_files(backups())) out.push_back("backups/" + name);
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(backups(), ec)) {
      auto name = e.path().string();
      if (name.ends_with(".manifest.json") && !fs::exists(name.substr(0, name.size() - 14)))
        out.push_back("backups/" + e.path().filename().string() + " (its backup is gone)");
    }
    return out;
  }

  // leftovers(), joined by ", ".
  std::string leftover_list() {
    std::string out;
    for (const auto& name : leftovers()) out += (out.empty() ? "" : ", ") + name;
    return out;
  }

  // The live database's integrity_check result ("ok" when sound; the error when it cannot even be read).
  std::string integrity_result() {
    try {
      return sql_text("PRAGMA integrity_check");
    } catch (const std::exception& e) {
      return e.what();
    }
  }

  // "" when the counts `oos-queue status --json` prints equal the counts by state of the tasks table, else
  // what differs.
  std::string counts_mismatch() {
    auto status = queue({"status", "--json"});
    if (status.exit_code != 0) return "oos-queue status exited " + std::to_string(status.exit_code) + ": " + status.err;
    std::map<std::string, long long> printed, counted;
    auto doc = json::parse(status.out);  // named: a range-for over a temporary's member would outlive it
    for (const auto& q : doc["queues"])
      for (const char* state : {"pending", "running", "succeeded", "dead", "cancelled"})
        printed[q["name"].get<std::string>() + "/" + state] = q[state].get<long long>();
    for (const auto& [key, count] : printed) {
      auto slash = key.find('/');
      counted[key] = sql_int("SELECT count(*) FROM tasks WHERE queue = '" + key.substr(0, slash) + "' AND status = '" +
                             key.substr(slash + 1) + "'");
    }
    if (printed == counted) return "";
    std::string diff;
    for (const auto& [key, count] : printed)
      if (counted[key] != count)
        diff += key + " printed " + std::to_string(count) + " counted " + std::to_string(counted[key]) + "; ";
    return diff;
  }

  // The database is sound and its status counts agree with its rows.
  void check_sound(const std::string& where) {
    auto result = integrity_result();
    BOOST_TEST(result == "ok", where << ": integrity_check: " << result);
    if (result == "ok") BOOST_TEST(counts_mismatch() == "", where << ": " << counts_mismatch());
  }

  // Every backup `oos-backup list --json` shows has its manifest and verifies (each checked once).
  void check_listed_backups(const std::string& where) {
    auto listed = backup({"list", "--json"});
    BOOST_TEST_REQUIRE(listed.exit_code == 0, where << ": " << listed.err);
    std::istringstream lines(listed.out);
    for (std::string line; std::getline(lines, line);) {
      auto entry = json::parse(line);
      auto path = entry["path"].get<std::string>();
      BOOST_TEST(entry["verified"] == true, where << ": listed without its manifest: " << path);
      if (m_verified.contains(path)) continue;
      auto verified = backup({"verify", path});
      BOOST_TEST(verified.exit_code == 0, where << ": listed backup does not verify: " << verified.err);
      m_verified.insert(path);
    }
  }

  fs::path backups() const { return state_dir() / "backups"; }

  std::uint64_t m_seed;
  std::mt19937_64 m_random;
  std::set<std::string> m_verified;
  int m_interrupted = 0;  // kills that landed before the run ended
  int m_steps = 0;        // file steps killed at
  int m_tasks = k_tasks;  // of the database install_database() puts in place
};

// Reports how many of `runs` kills landed mid-run and requires a fifth of them to (the others fall past the end,
// or the run was faster than measured).
void report(const Storm& storm, const std::string& command, int runs) {
  BOOST_TEST_MESSAGE(command << ": " << storm.m_interrupted << " of " << runs << " runs killed mid-run");
  BOOST_TEST((runs < 20 || storm.m_interrupted * 5 >= runs),
             command << ": only " << storm.m_interrupted << " of " << runs << " kills landed before the run ended");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(crash_steps)

BOOST_FIXTURE_TEST_CASE(a_killed_create_never_leaves_a_backup_that_is_listed_or_verified_partial, Storm) {
  int runs = crash_runs();
  // Each checked create's backup is removed, so that the next create (one per second) is not refused for its name.
  // A manifest whose backup is missing stays, for the next create to remove.
  auto clear = [&] {
    for (const auto& e : fs::directory_iterator(backups()))
      if (auto name = e.path().string(); name.ends_with(".db")) {
        fs::remove(name);
        fs::remove(name + ".manifest.json");
      }
    m_verified.clear();
  };
  auto check = [&](const std::string& where) {
    check_listed_backups(where);
    clear();
  };
  fs::create_directories(backups());
  kill_at_random("create", "OOS_BACKUP_BIN", {"create"}, {0}, clear, check);
  report(*this, "create", runs);
  use_step_database();
  each_step(
      "create", "OOS_BACKUP_BIN", {"create"}, [] {}, check);
  // The next create removes what the killed ones left (it may find a backup of this second: 75).
  auto next = backup({"create"});
  BOOST_TEST((next.exit_code == 0 || next.exit_code == 75), next.err);
  BOOST_TEST(leftover_list() == "");
  check_listed_backups("after the storm");
  check_sound("after the storm");
}

BOOST_FIXTURE_TEST_CASE(a_killed_restore_is_not_done_or_done_with_its_event, Storm) {
  int runs = crash_runs();
  auto file = create_backup();
  // The live database differs from the backup by a marker task: gone once a restore committed.
  long long events = 0;
  auto mark = [&] {
    if (sql_int("SELECT count(*) FROM tasks WHERE queue = 'marker'") == 0)
      sql_exec(
          "INSERT INTO tasks (queue, type, payload, status, run_at, max_attempts, created_at, updated_at) "
          "VALUES ('marker', 'm', '{}', 'pending', 0, 1, 0, 0)");
    for (const auto& e : fs::directory_iterator(state_dir()))
      if (e.path().filename().string().starts_with("oos.db.pre-restore-")) {
        // A copy aside under its final name is complete.
        SQLite::Database aside(e.path().string(), SQLite::OPEN_READONLY);
        BOOST_TEST(aside.execAndGet("PRAGMA integrity_check").getString() == "ok", e.path());
        fs::remove(e.path());
      }
    events = sql_int("SELECT count(*) FROM events WHERE kind = 'backup.restored'");
  };
  int committed = 0;
  auto check = [&](const std::string& where) {
    check_sound(where);
    if (sql_int("SELECT count(*) FROM tasks WHERE queue = 'marker'") == 0) {
      ++committed;
      // The backup holds no backup.restored event: the one there came with this restore.
      BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'backup.restored'") == 1,
                 where << ": a restore committed without its backup.restored event");
    } else {
      BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'backup.restored'") == events, where);
    }
  };
  kill_at_random("restore", "OOS_BACKUP_BIN", {"restore", file}, {0}, mark, check);
  BOOST_TEST_MESSAGE("restore: " << committed << " of " << runs << " killed restores had committed");
  report(*this, "restore", runs);
  use_step_database();
  file = create_backup();
  each_step("restore", "OOS_BACKUP_BIN", {"restore", file}, mark, check);
  mark();
  auto next = backup({"restore", file});
  BOOST_TEST(next.exit_code == 0, next.err);
  BOOST_TEST(leftover_list() == "");
  mark();
}

BOOST_FIXTURE_TEST_CASE(a_killed_prune_leaves_only_whole_backups_with_their_manifests, Storm) {
  write_config("[backup]\nkeep_last = 2\nkeep_daily = 0\nkeep_weekly = 0\n");
  int runs = crash_runs();
  auto created = backup({"create", "--json"});
  BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
  fs::path file = json::parse(created.out)["path"].get<std::string>();
  // 16 old backups to prune: links to the one just made (pruning a link leaves the others whole).
  auto replenish = [&] {
    for (int day = 10; day < 26; ++day) {
      auto name = backups() / ("oos-202601" + std::to_string(day) + "T000000Z.db");
      // A manifest whose backup is missing (a prune killed between the two) stays, for the next prune to remove.
      auto manifest = fs::path(name.string() + ".manifest.json");
      if (fs::exists(name) || fs::exists(manifest)) continue;
      fs::create_hard_link(file, name);
      fs::copy_file(file.string() + ".manifest.json", manifest);
    }
  };
  // The old backups are links to one file, so each name is verified once (check_listed_backups remembers it).
  auto check = [&](const std::string& where) { check_listed_backups(where); };
  auto duration = kill_at_random("prune", "OOS_BACKUP_BIN", {"prune"}, {0}, replenish, check);
  BOOST_TEST_MESSAGE("prune: " << m_interrupted << " of " << runs << " runs killed mid-run (a prune takes "
                               << duration.count() / 1000 << " ms, mostly the process start)");
  each_step("prune", "OOS_BACKUP_BIN", {"prune"}, replenish, check);
  auto next = backup({"prune"});
  BOOST_TEST(next.exit_code == 0, next.err);
  BOOST_TEST(leftover_list() == "");
  BOOST_TEST(backup({"verify"}).exit_code == 0);
}

BOOST_FIXTURE_TEST_CASE(a_killed_vacuum_leaves_the_database_sound_and_whole, Storm) {
  int runs = crash_runs();
  auto tasks = sql_int("SELECT count(*) FROM tasks");
  auto setup = [&] { install_database(); };
  auto check = [&](const std::string& where) {
    check_sound(where);
    BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == tasks, where);
  };
  kill_at_random("vacuum", "OOS_INTEGRITY_BIN", {"vacuum"}, {0}, setup, check);
  report(*this, "vacuum", runs);
  use_step_database();
  tasks = sql_int("SELECT count(*) FROM tasks");
  each_step("vacuum", "OOS_INTEGRITY_BIN", {"vacuum"}, setup, check);
  BOOST_TEST(leftover_list() == "");
}

BOOST_FIXTURE_TEST_CASE(a_killed_recovery_leaves_the_damaged_database_or_the_backup_never_neither, Storm) {
  int runs = crash_runs();
  auto tasks = sql_int("SELECT count(*) FROM tasks");
  BOOST_TEST_REQUIRE(backup({"create"}).exit_code == 0);
  auto damage = [&] {
    install_database();
    oos::test::corrupt_pages(db_path());
    fs::remove_all(state_dir() / "corrupt");
  };
  int recovered = 0;
  auto check = [&](const std::string& where) {
    BOOST_TEST_REQUIRE(fs::exists(db_path()), where << ": no database left in place");
    if (integrity_result() == "ok") {
      ++recovered;
      check_sound(where);
      BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == tasks, where);
    }
    // The next check recovers (or finds the recovered database sound) and leaves nothing behind.
    auto next = integrity({"check"});
    BOOST_TEST((next.exit_code == 0 || next.exit_code == 1),
               where << ": the next check exited " << next.exit_code << ": " << next.err);
    check_sound(where + ", then checked again");
    BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == tasks, where << ", then checked again");
    // The backup holds no integrity.recovered event: the one there came with the recovery that put it in place.
    BOOST_TEST(sql_int("SELECT count(*) FROM events WHERE kind = 'integrity.recovered'") == 1,
               where << ", then checked again: the recovery in place has no integrity.recovered event");
    BOOST_TEST(leftover_list() == "", where << ", then checked again");
  };
  kill_at_random("recovery", "OOS_INTEGRITY_BIN", {"check"}, {1}, damage, check);
  BOOST_TEST_MESSAGE("recovery: " << recovered << " of " << runs << " killed recoveries had put the backup in place");
  report(*this, "recovery", runs);
  use_step_database();
  tasks = sql_int("SELECT count(*) FROM tasks");
  fs::remove_all(backups());
  create_backup();
  each_step("recovery", "OOS_INTEGRITY_BIN", {"check"}, damage, check);
}

BOOST_FIXTURE_TEST_CASE(a_killed_cleanup_leaves_the_database_sound_and_the_next_one_sweeps, Storm) {
  int runs = crash_runs();
  // Orphans of a killed create and a killed restore, for each run to find.
  auto setup = [&] {
    install_database();
    fs::create_directories(backups());
    oos::test::write_file(backups() / ".oos-20260101T000000Z.db.tmp", "partial");
    oos::test::write_file(state_dir() / ".oos.db.restore-20260101T000000Z.tmp", "partial");
  };
  auto check = [&](const std::string& where) { check_sound(where); };
  kill_at_random("cleanup", "OOS_CLEANUP_BIN", {"--force"}, {0}, setup, check);
  report(*this, "cleanup", runs);
  use_step_database();
  each_step("cleanup", "OOS_CLEANUP_BIN", {"--force"}, setup, check);
  auto next = cleanup({"--force"});
  BOOST_TEST(next.exit_code == 0, next.err);
  BOOST_TEST(leftover_list() == "");
  check_sound("after the storm");
}

BOOST_AUTO_TEST_SUITE_END()
