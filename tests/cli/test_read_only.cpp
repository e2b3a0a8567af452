// Commands that only read open the database read-only: they work on a read-only state directory (with or
// without the -wal and -shm a writer leaves) and never create a missing state directory or database
// (docs/reference.md section 2).
#include <boost/test/unit_test.hpp>

#include <SQLiteCpp/Database.h>

#include <fstream>
#include <iterator>

#include "cli/cli_support.hpp"

using oos::test::CliFixture;
using oos::test::is_one_error_line;

namespace {

struct ReadCommand {
  const char* binary_env;
  const char* tool;
  std::vector<std::string> args;
};

// Every command that only reads, against a state directory whose task 1 is pending in queue "mail".
const std::vector<ReadCommand> k_read_commands{
    {"OOS_QUEUE_BIN", "oos-queue", {"status"}},
    {"OOS_QUEUE_BIN", "oos-queue", {"status", "--json"}},
    {"OOS_QUEUE_BIN", "oos-queue", {"stats", "mail"}},
    {"OOS_QUEUE_BIN", "oos-queue", {"list", "mail", "--json"}},
    {"OOS_QUEUE_BIN", "oos-queue", {"show", "1"}},
    {"OOS_QUEUE_BIN", "oos-queue", {"breaker", "mail"}},
    {"OOS_QUEUE_BIN", "oos-queue", {"metrics"}},
    {"OOS_RETRY_BIN", "oos-retry", {"list"}},
    {"OOS_RETRY_BIN", "oos-retry", {"show", "1", "--json"}},
    {"OOS_SEARCH_BIN", "oos-search", {"quota"}},
};

// Runs argv in a private mount namespace where `dir` is bound read-only onto itself: writes there fail with
// EROFS, also for root (the tests run as root in CI).
oos::util::RunResult run_on_read_only(CliFixture& f, const std::filesystem::path& dir,
                                      const std::vector<std::string>& argv) {
  std::vector<std::string> wrapped{"unshare",   "-m", "sh", "-c", "mount --bind -o ro \"$0\" \"$0\" && exec \"$@\"",
                                   dir.string()};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return f.run(wrapped);
}

void require_root() {
  BOOST_TEST_REQUIRE(::geteuid() == 0, "this test needs root (a read-only bind mount in a private namespace)");
}

// Every read command succeeds on the read-only state directory, prints what it read, and the files are unchanged.
void every_read_command_works_read_only(CliFixture& f) {
  std::map<std::string, std::string> before;
  for (const auto& entry : std::filesystem::directory_iterator(f.state_dir()))
    before[entry.path().filename().string()] = oos::test::read_file(entry.path());
  for (const auto& c : k_read_commands) {
    BOOST_TEST_CONTEXT(c.tool << " " << c.args.front()) {
      auto r = run_on_read_only(f, f.state_dir(), f.tool_argv(c.binary_env, f.state_dir(), c.args));
      // oos-retry show 1 of a pending task is fine; oos-retry list of no dead task prints its header only.
      BOOST_TEST(r.exit_code == 0, r.err);
      BOOST_TEST(r.err.find("error") == std::string::npos, r.err);
    }
  }
  auto status = run_on_read_only(f, f.state_dir(), f.tool_argv("OOS_QUEUE_BIN", f.state_dir(), {"status", "--json"}));
  BOOST_TEST(status.out.find("\"pending\":2") != std::string::npos, status.out);
  auto health = run_on_read_only(f, f.state_dir(), f.tool_argv("OOS_HEALTH_BIN", f.state_dir(), {}));
  BOOST_TEST(health.out.find("database") != std::string::npos);
  BOOST_TEST(health.out.find("cannot") == std::string::npos, health.out);
  BOOST_TEST(health.out.find("UNKNOWN") == std::string::npos, health.out);
  std::map<std::string, std::string> after;
  for (const auto& entry : std::filesystem::directory_iterator(f.state_dir()))
    after[entry.path().filename().string()] = oos::test::read_file(entry.path());
  BOOST_TEST((after == before));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(read_only)

BOOST_FIXTURE_TEST_CASE(read_commands_work_on_a_read_only_state_dir_without_wal_files, CliFixture) {
  require_root();
  enqueue("mail", "send");
  enqueue("mail", "send");
  // The last connection closed: SQLite removed the -wal and -shm, and none can be created now.
  BOOST_TEST_REQUIRE(!std::filesystem::exists(state_dir() / "oos.db-wal"));
  BOOST_TEST_REQUIRE(!std::filesystem::exists(state_dir() / "oos.db-shm"));
  every_read_command_works_read_only(*this);
}

BOOST_FIXTURE_TEST_CASE(read_commands_work_on_a_read_only_state_dir_with_a_writers_wal_files, CliFixture) {
  require_root();
  enqueue("mail", "send");
  // A writer keeps its connection: the -wal and -shm stay, and the second task is only in the WAL.
  SQLite::Database writer(db_path().string(), SQLite::OPEN_READWRITE);
  writer.execAndGet("SELECT count(*) FROM tasks");  // joins the WAL: the others' last close keeps it
  enqueue("mail", "send");
  BOOST_TEST_REQUIRE(std::filesystem::file_size(state_dir() / "oos.db-wal") > 0u);
  BOOST_TEST_REQUIRE(std::filesystem::exists(state_dir() / "oos.db-shm"));
  every_read_command_works_read_only(*this);
}

BOOST_FIXTURE_TEST_CASE(read_commands_never_create_a_missing_state_dir_and_say_so_with_66, CliFixture) {
  for (const auto& c : k_read_commands) {
    BOOST_TEST_CONTEXT(c.tool << " " << c.args.front()) {
      auto r = run(tool_argv(c.binary_env, state_dir(), c.args));
      BOOST_TEST(r.exit_code == 66);
      BOOST_TEST(r.out.empty());
      BOOST_TEST(is_one_error_line(r.err, c.tool), r.err);
      BOOST_TEST(r.err == std::string(c.tool) + ": error: state directory '" + state_dir().string() +
                              "' does not exist: a command that only reads does not create it (check --state-dir, "
                              "$OOS_STATE_DIR and paths.state_dir)\n");
      BOOST_TEST(!std::filesystem::exists(state_dir()));
    }
  }
  BOOST_TEST(health({}).exit_code == 2);
  BOOST_TEST(!std::filesystem::exists(state_dir()));
}

BOOST_FIXTURE_TEST_CASE(read_commands_never_create_a_missing_database_and_say_so_with_66, CliFixture) {
  std::filesystem::create_directories(state_dir());
  for (const auto& c : k_read_commands) {
    BOOST_TEST_CONTEXT(c.tool << " " << c.args.front()) {
      auto r = run(tool_argv(c.binary_env, state_dir(), c.args));
      BOOST_TEST(r.exit_code == 66);
      BOOST_TEST(r.err == std::string(c.tool) + ": error: database '" + db_path().string() +
                              "' does not exist: a command that only reads does not create it (check --state-dir, "
                              "$OOS_STATE_DIR and paths.state_dir)\n");
      BOOST_TEST(std::filesystem::is_empty(state_dir()));
    }
  }
}

BOOST_FIXTURE_TEST_CASE(backup_list_reads_only_the_backup_dir_even_without_a_state_dir, CliFixture) {
  // The state directory may be what was lost: the backups to restore from are listed without it.
  auto backups = dir() / "backups";
  std::filesystem::create_directories(backups);
  oos::test::write_file(backups / "oos-20261201T000000Z.db", "x");
  write_config("[backup]\ndir = \"" + backups.string() + "\"\n");
  auto r = backup({"list", "--json"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out.find("oos-20261201T000000Z.db") != std::string::npos, r.out);
  BOOST_TEST(!std::filesystem::exists(state_dir()));
}

BOOST_FIXTURE_TEST_CASE(a_state_dir_that_is_a_file_is_74_for_read_commands_too, CliFixture) {
  oos::test::write_file(state_dir(), "a file");
  auto r = queue({"status"});
  BOOST_TEST(r.exit_code == 74);
  BOOST_TEST(r.err == "oos-queue: error: state directory '" + state_dir().string() +
                          "' is not a directory: move it away or point --state-dir elsewhere\n");
  BOOST_TEST(oos::test::read_file(state_dir()) == "a file");
}

BOOST_FIXTURE_TEST_CASE(writing_commands_on_a_read_only_state_dir_fail_with_74_and_one_line, CliFixture) {
  require_root();
  enqueue("mail", "send");
  auto before = oos::test::read_file(db_path());
  auto r = run_on_read_only(*this, state_dir(), tool_argv("OOS_QUEUE_BIN", state_dir(), {"enqueue", "mail", "send"}));
  BOOST_TEST(r.exit_code == 74);
  BOOST_TEST(is_one_error_line(r.err), r.err);
  BOOST_TEST(r.err.find("database '" + db_path().string() + "'") != std::string::npos, r.err);
  BOOST_TEST(oos::test::read_file(db_path()) == before);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 1);
}

BOOST_AUTO_TEST_SUITE_END()
