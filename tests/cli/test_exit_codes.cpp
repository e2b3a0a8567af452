#include <boost/test/unit_test.hpp>

#include <SQLiteCpp/Database.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>

#include "cli/cli_support.hpp"
#include "db/schema.hpp"
#include "support/temp_dir.hpp"

using oos::test::CliFixture;
using oos::test::is_one_error_line;

BOOST_AUTO_TEST_SUITE(exit_codes)

// --- 0 ---------------------------------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(version_prints_the_name_and_version_and_exits_0, CliFixture) {
  auto r = run({oos::test::binary_from_env("OOS_QUEUE_BIN"), "--version"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out.starts_with("oos-queue "));
  BOOST_TEST(r.out.ends_with("\n"));
  BOOST_TEST(std::count(r.out.begin(), r.out.end(), '\n') == 1);
  BOOST_TEST(r.err.empty());
}

BOOST_FIXTURE_TEST_CASE(help_lists_the_verbs_and_exits_0, CliFixture) {
  auto r = run({oos::test::binary_from_env("OOS_QUEUE_BIN"), "--help"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out.find("Usage: oos-queue") != std::string::npos);
  for (const char* verb : {"enqueue", "status", "stats", "list", "show", "cancel", "pause", "resume", "breaker"})
    BOOST_TEST(r.out.find(verb) != std::string::npos, verb);
  BOOST_TEST(r.err.empty());
  auto sub = queue({"enqueue", "--help"});
  BOOST_TEST(sub.exit_code == 0);
  BOOST_TEST(sub.out.find("--unique-key") != std::string::npos);
  BOOST_TEST(!std::filesystem::exists(db_path()));
}

// --- 64 usage --------------------------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(usage_errors_are_exit_64_with_one_precise_line, CliFixture) {
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  const std::vector<Case> cases{
      {{"enqueue", "mail", "send", "--bogus"},
       "oos-queue: error: The following argument was not expected: --bogus (see --help)\n"},
      {{"enqueue"}, "oos-queue: error: queue is required (see --help)\n"},
      {{}, "oos-queue: error: A subcommand is required (see --help)\n"},
      {{"frobnicate"}, ""},
      {{"enqueue", "mail"}, "oos-queue: error: enqueue: TYPE is required (or use --batch)\n"},
      {{"enqueue", "mail", "send", "--delay", "5x"},
       "oos-queue: error: --delay: invalid duration '5x': unit must be one of ms, s, m, h, d\n"},
      {{"enqueue", "mail", "send", "--delay", "-5s"},
       "oos-queue: error: --delay: invalid duration '-5s': expected a number followed by a unit\n"},
      {{"enqueue", "mail", "send", "--delay"}, ""},
      {{"enqueue", "a b", "send"},
       "oos-queue: error: queue: invalid name 'a b': use 1-64 letters, digits, '_', '-', '.' or ':' (see --help)\n"},
      {{"enqueue", "mail", "bad/type"},
       "oos-queue: error: type: invalid name 'bad/type': use 1-64 letters, digits, '_', '-', '.' or ':' (see "
       "--help)\n"},
      {{"enqueue", std::string(65, 'q'), "send"}, ""},
      {{"--log-level", "bogus", "status"},
       "oos-queue: error: --log-level: invalid level 'bogus': use debug, info, warn, error or critical\n"},
      {{"enqueue", "mail", "send", "--priority", "high"},
       "oos-queue: error: Could not convert: --priority = high (see --help)\n"},
      {{"show", "abc"}, "oos-queue: error: Could not convert: id = abc (see --help)\n"},
      {{"show"}, "oos-queue: error: id is required (see --help)\n"},
      {{"list", "mail", "--status", "bogus"},
       "oos-queue: error: --status: bogus not in {pending,running,succeeded,dead,cancelled} (see --help)\n"},
      {{"stats", "a b"}, ""},
      {{"list", "a b"}, ""},
  };
  for (const auto& c : cases) {
    auto r = queue(c.args);
    std::string what = c.args.empty() ? "(no arguments)" : c.args.front() + " ... " + c.args.back();
    BOOST_TEST(r.exit_code == 64, what);
    BOOST_TEST(r.out.empty(), what);
    BOOST_TEST(is_one_error_line(r.err), what << ": " << r.err);
    if (!c.err.empty()) BOOST_TEST(r.err == c.err, what);
  }
  BOOST_TEST((!std::filesystem::exists(db_path()) || sql_int("SELECT count(*) FROM tasks") == 0));
}

BOOST_FIXTURE_TEST_CASE(a_non_positive_count_is_a_usage_error_with_a_readable_message, CliFixture) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"list", "mail", "--limit", "0"},
        std::vector<std::string>{"enqueue", "mail", "send", "--max-attempts", "0"}}) {
    auto r = queue(args);
    BOOST_TEST(r.exit_code == 64);
    BOOST_TEST(is_one_error_line(r.err), r.err);
    BOOST_TEST(r.err.find(args[args.size() - 2]) != std::string::npos, r.err);
    // The message should say what is allowed ("at least 1"), not a range that contains the rejected value
    // and ends in a 300-digit number.
    BOOST_TEST(r.err.size() < 160u, r.err);
    BOOST_TEST(r.err.find("not in range 0.000000") == std::string::npos, r.err);
  }
}

// --- 65 data ---------------------------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(an_invalid_json_payload_is_exit_65_naming_the_offset, CliFixture) {
  auto r = queue({"enqueue", "mail", "send", "--data", "{"});
  BOOST_TEST(r.exit_code == 65);
  BOOST_TEST(r.out.empty());
  BOOST_TEST(r.err == "oos-queue: error: payload is not valid JSON at offset 1: unexpected end of input\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
}

BOOST_FIXTURE_TEST_CASE(an_invalid_json_payload_from_a_file_is_exit_65, CliFixture) {
  auto file = dir() / "bad.json";
  oos::test::write_file(file, "{\"a\": nope}");
  auto r = queue({"enqueue", "mail", "send", "--data", "@" + file.string()});
  BOOST_TEST(r.exit_code == 65);
  BOOST_TEST(is_one_error_line(r.err), r.err);
  BOOST_TEST(r.err == "oos-queue: error: payload is not valid JSON at offset 7: invalid literal\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
}

// --- 66 no such task, queue or file ----------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(unknown_tasks_queues_and_files_are_exit_66, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  auto missing = (dir() / "missing.json").string();
  struct Case {
    std::vector<std::string> args;
    std::string err;
  };
  const std::vector<Case> cases{
      {{"show", "2"}, "oos-queue: error: task 2 not found\n"},
      {{"cancel", "2"}, "oos-queue: error: task 2 not found\n"},
      {{"stats", "nope"}, "oos-queue: error: queue 'nope' not found: it has no tasks and no [queues.nope] settings\n"},
      {{"list", "nope"}, "oos-queue: error: queue 'nope' not found: it has no tasks and no [queues.nope] settings\n"},
      {{"breaker", "nope"},
       "oos-queue: error: queue 'nope' not found: it has no tasks and no [queues.nope] settings\n"},
      {{"enqueue", "mail", "send", "--data", "@" + missing},
       "oos-queue: error: --data: cannot read '" + missing + "': No such file or directory\n"},
  };
  for (const auto& c : cases) {
    auto r = queue(c.args);
    BOOST_TEST(r.exit_code == 66, c.args.front());
    BOOST_TEST(r.out.empty());
    BOOST_TEST(r.err == c.err);
  }
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 1);
  BOOST_TEST(sql_text("SELECT status FROM tasks") == "pending");
}

BOOST_FIXTURE_TEST_CASE(data_naming_a_directory_is_reported_as_an_unreadable_file, CliFixture) {
  auto directory = dir().path();
  auto r = queue({"enqueue", "mail", "send", "--data", "@" + directory.string()});
  BOOST_TEST((r.exit_code == 66 || r.exit_code == 74), "exit code " << r.exit_code);
  BOOST_TEST(is_one_error_line(r.err), r.err);
  BOOST_TEST(r.err.find("'" + directory.string() + "'") != std::string::npos, r.err);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
}

// --- 69 unavailable --------------------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(a_database_from_a_newer_schema_is_refused_with_69, CliFixture,
                        *oos::test::sqlite_only("writes a SQLite file with user_version 999")) {
  std::filesystem::create_directories(state_dir());
  {
    SQLite::Database db(db_path().string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE future (x INTEGER); PRAGMA user_version = 999;");
  }
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"status"}, std::vector<std::string>{"enqueue", "mail", "send"}}) {
    auto r = queue(args);
    BOOST_TEST(r.exit_code == 69);
    BOOST_TEST(r.out.empty());
    BOOST_TEST(r.err == "oos-queue: error: database '" + db_path().string() +
                            "' has schema version 999, newer than this build supports (" +
                            std::to_string(oos::db::latest_schema_version()) +
                            "); install the newer OOS that wrote it\n");
  }
  BOOST_TEST(sql_int("PRAGMA user_version") == 999);
  BOOST_TEST(sql_int("SELECT count(*) FROM sqlite_master WHERE name = 'tasks'") == 0);
}

// --- 74 I/O ----------------------------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(
    a_state_dir_that_cannot_be_created_is_exit_74, CliFixture,
    *oos::test::sqlite_only(
        "the state directory holds the SQLite file; on PostgreSQL oos-queue neither needs nor creates it")) {
  auto file = dir() / "plain-file";
  oos::test::write_file(file, "not a directory");
  auto state = file / "state";
  auto r = queue_at(state, {"enqueue", "mail", "send"});
  BOOST_TEST(r.exit_code == 74);
  BOOST_TEST(r.out.empty());
  BOOST_TEST(r.err ==
             "oos-queue: error: state directory: cannot create directory '" + state.string() + "': Not a directory\n");
  BOOST_TEST(oos::test::read_file(file) == "not a directory");
}

BOOST_FIXTURE_TEST_CASE(a_corrupt_database_is_exit_74_pointing_to_oos_integrity, CliFixture,
                        *oos::test::sqlite_only("writes garbage into the SQLite file")) {
  std::filesystem::create_directories(state_dir());
  std::string garbage;
  for (int i = 0; i < 8192; ++i) garbage.push_back(static_cast<char>((i * 7919 + 13) % 251));
  oos::test::write_file(db_path(), garbage);
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"status"}, std::vector<std::string>{"enqueue", "mail", "send"}}) {
    auto r = queue(args);
    BOOST_TEST(r.exit_code == 74);
    BOOST_TEST(r.out.empty());
    BOOST_TEST(is_one_error_line(r.err), r.err);
    BOOST_TEST(r.err.starts_with("oos-queue: error: database '" + db_path().string() + "' is corrupt"), r.err);
    BOOST_TEST(r.err.find("oos-integrity") != std::string::npos, r.err);
  }
  // The damaged file is left as it was for oos-integrity to examine.
  BOOST_TEST(oos::test::read_file(db_path()) == garbage);
}

BOOST_FIXTURE_TEST_CASE(another_programs_database_is_exit_65_and_left_unchanged, CliFixture,
                        *oos::test::sqlite_only("writes another program's SQLite file")) {
  std::filesystem::create_directories(state_dir());
  {
    SQLite::Database other(db_path().string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    other.exec("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users(name) VALUES ('ada')");
  }
  auto before = oos::test::read_file(db_path());
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"status"}, std::vector<std::string>{"enqueue", "mail", "send"}}) {
    auto r = queue(args);
    BOOST_TEST(r.exit_code == 65);
    BOOST_TEST(r.out.empty());
    BOOST_TEST(is_one_error_line(r.err), r.err);
    BOOST_TEST(r.err.starts_with("oos-queue: error: database '" + db_path().string() + "' is not an OOS database"),
               r.err);
  }
  BOOST_TEST(integrity({"check"}).exit_code == 65);  // not taken for a corrupt database and replaced
  BOOST_TEST(oos::test::read_file(db_path()) == before);
}

// --- 75 temporary failure --------------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(a_database_busy_past_the_timeout_is_exit_75_and_nothing_is_stored, CliFixture,
                        *oos::test::sqlite_only("holds SQLite's write lock (db.busy_timeout)")) {
  write_config("[db]\nbusy_timeout = \"200ms\"\n");
  create_database();
  {
    SQLite::Database holder(db_path().string(), SQLite::OPEN_READWRITE);
    holder.exec("BEGIN IMMEDIATE");
    auto start = std::chrono::steady_clock::now();
    auto r = queue({"enqueue", "mail", "send"});
    auto waited = std::chrono::steady_clock::now() - start;
    BOOST_TEST(r.exit_code == 75);
    BOOST_TEST(r.out.empty());
    BOOST_TEST(r.err == "oos-queue: error: database '" + db_path().string() +
                            "' is busy: another process held its write lock past db.busy_timeout; try again\n");
    // It waited for the configured timeout, not the 5 s default.
    BOOST_TEST(waited >= std::chrono::milliseconds(200));
    BOOST_TEST(waited < std::chrono::milliseconds(4000));

    // Readers are not blocked by the writer (WAL).
    auto status = queue({"status"});
    BOOST_TEST(status.exit_code == 0);
    holder.exec("ROLLBACK");
  }
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 0);
  auto retry = queue({"enqueue", "mail", "send"});
  BOOST_TEST(retry.exit_code == 0);
  BOOST_TEST(retry.out == "1\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 1);
}

BOOST_FIXTURE_TEST_CASE(pause_and_cancel_on_a_busy_database_are_exit_75, CliFixture,
                        *oos::test::sqlite_only("holds SQLite's write lock (db.busy_timeout)")) {
  write_config("[db]\nbusy_timeout = \"100ms\"\n");
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  {
    SQLite::Database holder(db_path().string(), SQLite::OPEN_READWRITE);
    holder.exec("BEGIN IMMEDIATE");
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"pause", "mail"}, std::vector<std::string>{"cancel", "1"}}) {
      auto r = queue(args);
      BOOST_TEST(r.exit_code == 75, args.front());
      BOOST_TEST(is_one_error_line(r.err), r.err);
      BOOST_TEST(r.err.find("try again") != std::string::npos);
    }
    holder.exec("ROLLBACK");
  }
  BOOST_TEST(sql_text("SELECT status FROM tasks WHERE id = 1") == "pending");
  BOOST_TEST(sql_int("SELECT count(*) FROM queues WHERE paused") == 0);
  BOOST_TEST(sql_int("SELECT count(*) FROM events") == 0);
}

// --- 78 configuration ------------------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(malformed_toml_is_exit_78_naming_the_file_and_line, CliFixture) {
  write_config("[db]\nbusy_timeout = \n");
  auto r = queue({"status"});
  BOOST_TEST(r.exit_code == 78);
  BOOST_TEST(r.out.empty());
  BOOST_TEST(is_one_error_line(r.err), r.err);
  BOOST_TEST(r.err.starts_with("oos-queue: error: " + config_path().string() + ":2: malformed TOML: "), r.err);
  BOOST_TEST(!std::filesystem::exists(state_dir()));
}

BOOST_FIXTURE_TEST_CASE(an_unknown_key_is_exit_78_naming_the_file_line_and_key, CliFixture) {
  write_config("# tuned\n[db]\nbusy_timeot = \"1s\"\n");
  auto r = queue({"enqueue", "mail", "send"});
  BOOST_TEST(r.exit_code == 78);
  BOOST_TEST(r.out.empty());
  BOOST_TEST(r.err == "oos-queue: error: " + config_path().string() + ":3: unknown key 'db.busy_timeot'\n");
  BOOST_TEST(!std::filesystem::exists(db_path()));
}

BOOST_FIXTURE_TEST_CASE(an_unknown_key_in_a_queue_table_is_exit_78, CliFixture) {
  write_config("[queues.mail]\nmax_attempts = 3\ndepth_alrt = 5\n");
  auto r = queue({"status"});
  BOOST_TEST(r.exit_code == 78);
  BOOST_TEST(r.err == "oos-queue: error: " + config_path().string() + ":3: unknown key 'queues.mail.depth_alrt'\n");
}

BOOST_FIXTURE_TEST_CASE(a_wrong_type_is_exit_78_naming_the_key_and_the_types, CliFixture) {
  write_config("[queue]\nmax_attempts = \"ten\"\n");
  auto r = queue({"status"});
  BOOST_TEST(r.exit_code == 78);
  BOOST_TEST(r.err == "oos-queue: error: " + config_path().string() +
                          ":2: key 'queue.max_attempts': expected an integer, got a string\n");

  write_config("[db]\nbusy_timeout = 5\n");
  auto duration = queue({"status"});
  BOOST_TEST(duration.exit_code == 78);
  BOOST_TEST(duration.err == "oos-queue: error: " + config_path().string() +
                                 ":2: key 'db.busy_timeout': expected a duration string such as \"30s\", got an "
                                 "integer\n");
}

BOOST_FIXTURE_TEST_CASE(an_invalid_value_is_exit_78, CliFixture) {
  write_config("[queue]\nbackoff_jitter = 2.0\n");
  auto r = queue({"status"});
  BOOST_TEST(r.exit_code == 78);
  BOOST_TEST(r.err == "oos-queue: error: " + config_path().string() +
                          ":2: key 'queue.backoff_jitter': must be between 0 and 1\n");

  write_config("[db]\nbusy_timeout = \"soon\"\n");
  auto duration = queue({"status"});
  BOOST_TEST(duration.exit_code == 78);
  BOOST_TEST(is_one_error_line(duration.err), duration.err);
  BOOST_TEST(duration.err.find(":2: key 'db.busy_timeout': invalid duration 'soon'") != std::string::npos,
             duration.err);
}

BOOST_FIXTURE_TEST_CASE(a_missing_config_file_is_exit_78, CliFixture) {
  auto missing = dir() / "absent.toml";
  auto r = run({oos::test::binary_from_env("OOS_QUEUE_BIN"), "--state-dir", state_dir().string(), "--config",
                missing.string(), "status"});
  BOOST_TEST(r.exit_code == 78);
  BOOST_TEST(r.err == "oos-queue: error: config: cannot read '" + missing.string() + "': No such file or directory\n");
}

BOOST_FIXTURE_TEST_CASE(a_config_file_over_1_mib_is_exit_78, CliFixture) {
  auto r = run({oos::test::binary_from_env("OOS_QUEUE_BIN"), "--state-dir", state_dir().string(), "--config",
                "/dev/zero", "status"});
  BOOST_TEST(r.exit_code == 78);
  BOOST_TEST(r.err == "oos-queue: error: config file '/dev/zero' is larger than 1 MiB\n");
}

BOOST_FIXTURE_TEST_CASE(a_task_id_beyond_64_bits_is_exit_64_not_clamped, CliFixture) {
  for (const auto& r : {queue({"show", "99999999999999999999"}), queue({"cancel", "99999999999999999999"}),
                        retry({"show", "99999999999999999999"}), retry({"requeue", "99999999999999999999"})}) {
    BOOST_TEST(r.exit_code == 64);
    BOOST_TEST(r.err.find("task id '99999999999999999999' is out of range") != std::string::npos, r.err);
    BOOST_TEST(oos::test::is_one_error_line(r.err, r.err.substr(0, r.err.find(':'))), r.err);
  }
}

BOOST_FIXTURE_TEST_CASE(a_long_bad_name_is_cut_in_the_error, CliFixture) {
  auto name = std::string(10000, '!');
  auto r = queue({"enqueue", name, "t"});
  BOOST_TEST(r.exit_code == 64);
  BOOST_TEST(r.err == "oos-queue: error: queue: invalid name '" + std::string(64, '!') +
                          "…': use 1-64 letters, digits, '_', '-', '.' or ':' (see --help)\n");
  auto batch = queue({"enqueue", "q", "--batch"}, R"({"type":")" + name + "\"}\n");
  BOOST_TEST(batch.exit_code == 65);
  BOOST_TEST(batch.err == "oos-queue: error: stdin line 1: invalid type name '" + std::string(64, '!') +
                              "…': use 1-64 letters, digits, '_', '-', '.' or ':'\n");
}

BOOST_FIXTURE_TEST_CASE(a_config_error_stores_nothing, CliFixture) {
  BOOST_TEST_REQUIRE(queue({"enqueue", "mail", "send"}).exit_code == 0);
  write_config("[queue]\nmax_attempts = 0\n");
  auto r = queue({"enqueue", "mail", "send"});
  BOOST_TEST(r.exit_code == 78);
  BOOST_TEST(r.err == "oos-queue: error: " + config_path().string() +
                          ":2: key 'queue.max_attempts': must be between 1 and 1000\n");
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks") == 1);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(exit_codes)

BOOST_FIXTURE_TEST_CASE(an_invalid_log_format_in_the_environment_is_exit_78, CliFixture) {
  ::setenv("OOS_LOG_FORMAT", "xml", 1);
  auto r = queue({"status"});
  ::unsetenv("OOS_LOG_FORMAT");
  BOOST_TEST(r.exit_code == 78);
  BOOST_TEST(r.err == "oos-queue: error: OOS_LOG_FORMAT: invalid format 'xml': use auto, journal, json or text\n");
}

BOOST_AUTO_TEST_SUITE_END()
