// Hostile input: every row of the matrix is something a careless or malicious user can hand the tools
// (huge or deeply nested payloads, bytes that are not text, names built to escape a path or a shell, absurd
// numbers, garbage configs, a state directory or database that is not what it should be). Each must end with
// its documented exit code (docs/reference.md section 3), exactly one line on stderr naming the object and the
// cause, and nothing written: the state directory byte for byte as it was (docs/reliability.md, "Hostile
// input").
#include <boost/test/unit_test.hpp>

#include <SQLiteCpp/Database.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <iterator>
#include <map>

#include "cli/cli_support.hpp"
#include "support/temp_dir.hpp"

using oos::test::CliFixture;

namespace {

namespace fs = std::filesystem;

// Every file under `dir` (recursively) with its content; a path that is not a regular file by its type.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  if (fs::is_symlink(dir, ec)) return {{"", "symlink to " + fs::read_symlink(dir, ec).string()}};
  if (!fs::exists(dir, ec)) return {};
  if (!fs::is_directory(dir, ec)) {
    std::ifstream in(dir, std::ios::binary);
    return {{"", std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>())}};
  }
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    auto name = fs::relative(entry.path(), dir).string();
    if (entry.is_regular_file()) {
      std::ifstream in(entry.path(), std::ios::binary);
      out[name] = std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    } else {
      out[name] = entry.is_directory() ? "<dir>" : "<special>";
    }
  }
  return out;
}

// A file of `size` bytes: a JSON string "aaa...".
fs::path big_payload(const fs::path& path, std::size_t size) {
  std::ofstream out(path, std::ios::binary);
  out << '"';
  std::string chunk(1 << 20, 'a');
  for (std::size_t left = size - 2; left > 0;) {
    auto n = std::min(left, chunk.size());
    out.write(chunk.data(), static_cast<std::streamsize>(n));
    left -= n;
  }
  out << '"';
  return path;
}

std::string nested(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

// One row: what is tried, how the state is prepared (default: one task enqueued, so the database exists),
// the command (a shell line when it needs a redirection), and what must come out.
struct Row {
  std::string what;
  std::function<std::vector<std::string>(CliFixture&)> command;
  int code;
  std::string tool;
  std::string cause;  // text the single error line must contain
  std::function<void(CliFixture&)> setup = [](CliFixture& f) { f.enqueue("mail", "send"); };
};

std::function<std::vector<std::string>(CliFixture&)> queue(std::vector<std::string> args) {
  return [args](CliFixture& f) { return f.tool_argv("OOS_QUEUE_BIN", f.state_dir(), args); };
}
std::function<std::vector<std::string>(CliFixture&)> tool(const char* env, std::vector<std::string> args) {
  return [env, args](CliFixture& f) { return f.tool_argv(env, f.state_dir(), args); };
}
// `args` for oos-queue with stdin from the file `input` of the test's directory (no pipe to fill).
std::function<std::vector<std::string>(CliFixture&)> queue_from_file(std::vector<std::string> args, std::string input) {
  return [args, input](CliFixture& f) {
    std::vector<std::string> argv{"sh", "-c", "exec \"$@\" < \"$0\"", (f.dir() / input).string()};
    auto tool_args = f.tool_argv("OOS_QUEUE_BIN", f.state_dir(), args);
    argv.insert(argv.end(), tool_args.begin(), tool_args.end());
    return argv;
  };
}
// Seeds one task, then writes `toml` as the config.
std::function<void(CliFixture&)> with_config(std::string toml) {
  return [toml](CliFixture& f) {
    f.enqueue("mail", "send");
    f.write_config(toml);
  };
}
// Seeds one task, then writes `content` to the test directory's file `name`.
std::function<void(CliFixture&)> with_file(std::string name, std::string content) {
  return [name, content](CliFixture& f) {
    f.enqueue("mail", "send");
    oos::test::write_file(f.dir() / name, content);
  };
}
// A state directory holding only `oos.db` made by `make`.
std::function<void(CliFixture&)> with_db(std::function<void(const fs::path&)> make) {
  return [make](CliFixture& f) {
    fs::create_directories(f.state_dir());
    make(f.db_path());
  };
}
void sqlite(const fs::path& db, const std::string& sql) {
  SQLite::Database(db.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE).exec(sql);
}

const std::string k_binary_garbage = [] {
  std::string s;
  for (int i = 0; i < 4096; ++i) s.push_back(static_cast<char>((i * 7919 + 13) % 256));
  return s;
}();

std::vector<Row> rows() {
  const std::string name_rule = "use 1-64 letters, digits, '_', '-', '.' or ':'";
  return {
      // --- payloads: size, depth, bytes that are not JSON text ----------------------------------------------
      {"a 10 MB payload from a file", queue({"enqueue", "mail", "send", "--data", "@PAYLOAD10"}), 65, "oos-queue",
       "payload is larger than 1 MiB (queue.max_payload)"},
      {"a 100 MB payload from a file", queue({"enqueue", "mail", "send", "--data", "@PAYLOAD100"}), 65, "oos-queue",
       "payload is larger than 1 MiB (queue.max_payload)"},
      {"a 100 MB payload on stdin", queue_from_file({"enqueue", "mail", "send", "--data", "-"}, "p100.json"), 65,
       "oos-queue", "payload is larger than 1 MiB (queue.max_payload)"},
      {"a 100 MB batch line", queue_from_file({"enqueue", "mail", "--batch"}, "p100.json"), 65, "oos-queue",
       "stdin line 1"},
      {"JSON nested 100,000 deep", queue({"enqueue", "mail", "send", "--data", "@deep.json"}), 65, "oos-queue",
       "nested deeper than 65", with_file("deep.json", nested(100000))},
      {"JSON nested 100,000 deep in a batch line", queue_from_file({"enqueue", "mail", "--batch"}, "deep.jsonl"), 65,
       "oos-queue", "nested deeper than 65",
       with_file("deep.jsonl", "{\"type\":\"t\",\"data\":" + nested(100000) + "}\n")},
      {"invalid UTF-8 in a payload string", queue({"enqueue", "mail", "send", "--data", "{\"a\":\"\xff\xfe\"}"}), 65,
       "oos-queue", "payload is not valid JSON"},
      {"a NUL byte inside a payload string", queue({"enqueue", "mail", "send", "--data", "@nul.json"}), 65, "oos-queue",
       "payload is not valid JSON", with_file("nul.json", std::string("{\"a\":\"x\0y\"}", 11))},
      {"a NUL byte after the payload", queue({"enqueue", "mail", "send", "--data", "@nul.json"}), 65, "oos-queue",
       "payload is not valid JSON", with_file("nul.json", std::string("{}\0", 3))},
      {"binary garbage as the payload", queue({"enqueue", "mail", "send", "--data", "@garbage"}), 65, "oos-queue",
       "payload is not valid JSON", with_file("garbage", k_binary_garbage)},
      {"binary garbage as batch input", queue_from_file({"enqueue", "mail", "--batch"}, "garbage"), 65, "oos-queue",
       "stdin line 1", with_file("garbage", k_binary_garbage)},
      {"a NUL byte after a batch line's object", queue_from_file({"enqueue", "mail", "--batch"}, "nul.jsonl"), 65,
       "oos-queue", "stdin line 1: expected a JSON object",
       with_file("nul.jsonl", std::string("{\"type\":\"t\"}\0{\"x\n", 17))},
      {"a NUL byte in a batch line's type", queue_from_file({"enqueue", "mail", "--batch"}, "nul.jsonl"), 65,
       "oos-queue", "invalid type name 'a\\x00b'", with_file("nul.jsonl", "{\"type\":\"a\\u0000b\"}\n")},
      // --- names: shell metacharacters, paths, control characters, bytes that are not UTF-8 -----------------
      {"a queue name with a command substitution", queue({"enqueue", "$(reboot)", "send"}), 64, "oos-queue",
       "invalid name '$(reboot)': " + name_rule},
      {"a queue name with ../", queue({"enqueue", "../../etc/x", "send"}), 64, "oos-queue",
       "invalid name '../../etc/x'"},
      {"a type name with ; and a space", queue({"enqueue", "mail", "send;rm -rf /"}), 64, "oos-queue",
       "invalid name 'send;rm -rf /'"},
      {"a queue name with a newline and a terminal escape", queue({"enqueue", "a\nb\x1b]0;x\x07", "send"}), 64,
       "oos-queue", "invalid name 'a\\x0ab\\x1b]0;x\\x07'"},
      {"a queue name that is not UTF-8", queue({"enqueue", "q\xff\xfe", "send"}), 64, "oos-queue",
       "invalid name 'q\\xff\\xfe'"},
      {"a batch type with ../", queue_from_file({"enqueue", "mail", "--batch"}, "t.jsonl"), 65, "oos-queue",
       "invalid type name '../x'", with_file("t.jsonl", "{\"type\":\"../x\"}\n")},
      {"a worker name with ../", tool("OOS_WORKER_BIN", {"--name", "../../tmp/x", "--drain"}), 64, "oos-worker",
       "invalid name '../../tmp/x'"},
      {"a stats queue with `backticks`", queue({"stats", "`id`"}), 64, "oos-queue", "invalid name '`id`'"},
      // --- absurd numbers ------------------------------------------------------------------------------------
      {"a priority beyond 32 bits", queue({"enqueue", "mail", "send", "--priority", "99999999999"}), 64, "oos-queue",
       "--priority"},
      {"a priority below -2^31", queue({"enqueue", "mail", "send", "--priority", "-99999999999"}), 64, "oos-queue",
       "--priority"},
      {"a priority that is not a number", queue({"enqueue", "mail", "send", "--priority", "1e9x"}), 64, "oos-queue",
       "--priority"},
      {"max-attempts 0", queue({"enqueue", "mail", "send", "--max-attempts", "0"}), 64, "oos-queue", "--max-attempts"},
      {"max-attempts beyond 32 bits", queue({"enqueue", "mail", "send", "--max-attempts", "99999999999"}), 64,
       "oos-queue", "--max-attempts"},
      {"a delay of 999999999999d (overflow)", queue({"enqueue", "mail", "send", "--delay", "999999999999d"}), 64,
       "oos-queue", "--delay"},
      {"a delay of 3651d (beyond ten years)", queue({"enqueue", "mail", "send", "--delay", "3651d"}), 64, "oos-queue",
       "--delay"},
      {"a negative delay", queue({"enqueue", "mail", "send", "--delay", "-5s"}), 64, "oos-queue", "--delay"},
      {"a batch delay of 999999999999d", queue_from_file({"enqueue", "mail", "--batch"}, "d.jsonl"), 65, "oos-queue",
       "stdin line 1", with_file("d.jsonl", "{\"type\":\"t\",\"delay\":\"999999999999d\"}\n")},
      {"a batch priority of 1e300", queue_from_file({"enqueue", "mail", "--batch"}, "p.jsonl"), 65, "oos-queue",
       "field 'priority'", with_file("p.jsonl", "{\"type\":\"t\",\"priority\":1e300}\n")},
      {"a batch max_attempts of -1", queue_from_file({"enqueue", "mail", "--batch"}, "m.jsonl"), 65, "oos-queue",
       "field 'max_attempts'", with_file("m.jsonl", "{\"type\":\"t\",\"max_attempts\":-1}\n")},
      {"a list limit beyond 32 bits", queue({"list", "mail", "--limit", "99999999999"}), 64, "oos-queue", "--limit"},
      {"a purge age of 999999999999d", tool("OOS_RETRY_BIN", {"purge", "--older-than", "999999999999d"}), 64,
       "oos-retry", "--older-than"},
      {"a negative purge age", tool("OOS_RETRY_BIN", {"purge", "--older-than", "-1d"}), 64, "oos-retry",
       "--older-than"},
      {"a task id of 2^64", queue({"show", "18446744073709551616"}), 64, "oos-queue", "is out of range"},
      {"a negative task id", queue({"cancel", "-1"}), 66, "oos-queue", "task -1 not found"},
      // --- configs ---------------------------------------------------------------------------------------------
      {"an integer beyond 64 bits in the config", queue({"enqueue", "mail", "send"}), 78, "oos-queue", "oos.toml:2",
       with_config("[queue]\nmax_attempts = 99999999999999999999\n")},
      {"a huge integer in range of TOML", queue({"enqueue", "mail", "send"}), 78, "oos-queue",
       "key 'queue.max_attempts': must be between 1 and 1000",
       with_config("[queue]\nmax_attempts = 9223372036854775807\n")},
      {"a duration of 999999999999d in the config", queue({"enqueue", "mail", "send"}), 78, "oos-queue",
       "key 'queue.lease'", with_config("[queue]\nlease = \"999999999999d\"\n")},
      {"a negative duration in the config", queue({"enqueue", "mail", "send"}), 78, "oos-queue", "key 'queue.lease'",
       with_config("[queue]\nlease = \"-5s\"\n")},
      {"a size of 99999999999TB in the config", queue({"enqueue", "mail", "send"}), 78, "oos-queue",
       "key 'queue.max_payload'", with_config("[queue]\nmax_payload = \"99999999999TB\"\n")},
      {"a float of 1e308 in the config", queue({"enqueue", "mail", "send"}), 78, "oos-queue",
       "key 'scale.load_threshold'", with_config("[scale]\nload_threshold = 1e308\n")},
      {"binary garbage as the config", queue({"enqueue", "mail", "send"}), 78, "oos-queue", "oos.toml",
       with_config(k_binary_garbage)},
      {"NUL bytes in the config", queue({"enqueue", "mail", "send"}), 78, "oos-queue", "oos.toml",
       with_config(std::string("[queue]\nmax_attempts = 3\0\0\n", 27))},
      {"a config queue named ../../x", queue({"enqueue", "mail", "send"}), 78, "oos-queue",
       "key 'queues.../../x': invalid name", with_config("[queues.\"../../x\"]\nlease = \"5s\"\n")},
      {"a config handler type with a space", queue({"enqueue", "mail", "send"}), 78, "oos-queue",
       "key 'handlers.a b': invalid name", with_config("[handlers.\"a b\"]\ncommand = [\"/bin/true\"]\n")},
      {"a config key with a terminal escape", queue({"enqueue", "mail", "send"}), 78, "oos-queue",
       "unknown key 'queue.\\x1b]0;x\\x07'", with_config("[queue]\n\"\\u001b]0;x\\u0007\" = 1\n")},
      {"a relative handler command", queue({"enqueue", "mail", "send"}), 78, "oos-queue",
       "key 'handlers.send.command': the program must be an absolute path, not './run.sh'",
       with_config("[handlers.send]\ncommand = [\"./run.sh\"]\n")},
      {"a handler command looked up in PATH", tool("OOS_WORKER_BIN", {"--drain"}), 78, "oos-worker", "not 'run.sh'",
       with_config("[handlers.send]\ncommand = [\"run.sh\"]\n")},
      {"a config that is a directory", tool("OOS_QUEUE_BIN", {"status"}), 78, "oos-queue", "oos.toml",
       [](CliFixture& f) {
         f.enqueue("mail", "send");
         fs::remove(f.config_path());
         fs::create_directory(f.config_path());
       }},
      // --- the state directory ---------------------------------------------------------------------------------
      {"a state dir that is a file (enqueue)", queue({"enqueue", "mail", "send"}), 74, "oos-queue", "Not a directory",
       [](CliFixture& f) { oos::test::write_file(f.state_dir(), "a file"); }},
      {"a state dir that is a file (status)", queue({"status"}), 74, "oos-queue", "is not a directory",
       [](CliFixture& f) { oos::test::write_file(f.state_dir(), "a file"); }},
      {"a state dir that is a dangling symlink", queue({"enqueue", "mail", "send"}), 74, "oos-queue",
       "cannot create directory", [](CliFixture& f) { fs::create_symlink(f.dir() / "nowhere", f.state_dir()); }},
      {"a state dir that does not exist (status)", queue({"status"}), 66, "oos-queue", "does not exist",
       [](CliFixture&) {}},
      // --- the database file -----------------------------------------------------------------------------------
      {"an oos.db of text", queue({"enqueue", "mail", "send"}), 74, "oos-queue", "oos-integrity",
       with_db([](const fs::path& db) { oos::test::write_file(db, "hello, I am a text file\n"); })},
      {"an oos.db of text (status)", queue({"status"}), 74, "oos-queue", "oos-integrity",
       with_db([](const fs::path& db) { oos::test::write_file(db, "hello, I am a text file\n"); })},
      {"an oos.db of binary garbage", tool("OOS_RETRY_BIN", {"list"}), 74, "oos-retry", "is corrupt",
       with_db([](const fs::path& db) { oos::test::write_file(db, k_binary_garbage); })},
      {"another program's database (enqueue)", queue({"enqueue", "mail", "send"}), 65, "oos-queue",
       "is not an OOS database (tables: users",
       with_db([](const fs::path& db) { sqlite(db, "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT)"); })},
      {"another program's database (retry list)", tool("OOS_RETRY_BIN", {"list"}), 65, "oos-retry",
       "is not an OOS database",
       with_db([](const fs::path& db) { sqlite(db, "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT)"); })},
      {"a database from a future schema (search quota)", tool("OOS_SEARCH_BIN", {"quota"}), 69, "oos-search",
       "has schema version 999, newer than this build supports",
       with_db([](const fs::path& db) { sqlite(db, "CREATE TABLE tasks(x); PRAGMA user_version = 999"); })},
      {"a database from a future schema (enqueue)", queue({"enqueue", "mail", "send"}), 69, "oos-queue",
       "has schema version 999",
       with_db([](const fs::path& db) { sqlite(db, "CREATE TABLE tasks(x); PRAGMA user_version = 999"); })},
      {"an oos.db that is a directory", queue({"enqueue", "mail", "send"}), 74, "oos-queue", "is not a regular file",
       with_db([](const fs::path& db) { fs::create_directory(db); })},
      {"an oos.db that is a FIFO", queue({"status"}), 74, "oos-queue", "is not a regular file",
       with_db([](const fs::path& db) { ::mkfifo(db.c_str(), 0600); })},
      {"an oos.db that is a symlink to /dev/null", queue({"enqueue", "mail", "send"}), 74, "oos-queue",
       "is not a regular file", with_db([](const fs::path& db) { fs::create_symlink("/dev/null", db); })},
  };
}

// The row's argv with the placeholders of the big payload files replaced by their paths, and "@NAME" by the
// test directory's file NAME.
std::vector<std::string> resolve(std::vector<std::string> argv, const CliFixture& f, const fs::path& p10,
                                 const fs::path& p100) {
  for (auto& arg : argv) {
    if (arg == "@PAYLOAD10")
      arg = "@" + p10.string();
    else if (arg == "@PAYLOAD100")
      arg = "@" + p100.string();
    else if (arg.starts_with("@") && !arg.starts_with("@/"))
      arg = "@" + (f.dir() / arg.substr(1)).string();
  }
  return argv;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hostile_input)

BOOST_AUTO_TEST_CASE(every_hostile_input_gets_its_exit_code_one_line_and_writes_nothing) {
  // The big payloads are made once, outside any state directory (never in the repository).
  oos::test::TempDir shared;
  auto p10 = big_payload(shared / "p10.json", 10u << 20);
  auto p100 = big_payload(shared / "p100.json", 100u << 20);
  auto table = rows();
  for (const auto& row : table) {
    BOOST_TEST_CONTEXT("row: " << row.what) {
      CliFixture f;
      fs::create_hard_link(p100, f.dir() / "p100.json");
      row.setup(f);
      auto before = snapshot(f.state_dir());
      // A row that makes a tool hang fails (137) instead of hanging the suite.
      std::vector<std::string> argv{"timeout", "-s", "KILL", "20"};
      auto command = resolve(row.command(f), f, p10, p100);
      argv.insert(argv.end(), command.begin(), command.end());
      auto r = f.run(argv);
      BOOST_TEST(r.exit_code == row.code, r.err);
      BOOST_TEST(r.out.empty(), r.out);
      BOOST_TEST(oos::test::is_one_error_line(r.err, row.tool), r.err);
      BOOST_TEST(r.err.find(row.cause) != std::string::npos, r.err);
      BOOST_TEST((snapshot(f.state_dir()) == before));
    }
  }
  BOOST_TEST_MESSAGE("hostile inputs tried: " << table.size());
}

BOOST_FIXTURE_TEST_CASE(a_state_dir_that_is_a_symlink_is_followed, CliFixture) {
  // Decided (docs/reference.md section 4): a symlinked state directory is followed, as a mount point would be;
  // the database lives in its target.
  auto target = dir() / "elsewhere";
  fs::create_directory(target);
  fs::create_symlink(target, state_dir());
  BOOST_TEST(queue({"enqueue", "mail", "send"}).exit_code == 0);
  BOOST_TEST(fs::is_regular_file(target / "oos.db"));
  BOOST_TEST(fs::is_symlink(state_dir()));
  BOOST_TEST(queue({"status"}).exit_code == 0);
}

BOOST_FIXTURE_TEST_CASE(a_state_dir_the_user_cannot_write_fails_writes_with_74_and_serves_reads, CliFixture) {
  BOOST_TEST_REQUIRE(::geteuid() == 0, "this test needs root (it runs the tools as user nobody)");
  enqueue("mail", "send");
  // The database belongs to nobody, the directory too but without write permission (0555); the parents
  // are traversable.
  fs::permissions(dir().path(), fs::perms(0755));
  auto nobody = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv{"runuser", "-u", "nobody", "--"};
    auto tool_args = tool_argv("OOS_QUEUE_BIN", state_dir(), args);
    argv.insert(argv.end(), tool_args.begin(), tool_args.end());
    return run(argv);
  };
  BOOST_TEST_REQUIRE(run({"chown", "-R", "nobody", state_dir().string(), config_path().string()}).exit_code == 0);
  fs::permissions(state_dir(), fs::perms(0555));
  auto before = snapshot(state_dir());
  auto write = nobody({"enqueue", "mail", "send"});
  BOOST_TEST(write.exit_code == 74);
  BOOST_TEST(oos::test::is_one_error_line(write.err), write.err);
  BOOST_TEST(write.err.find("database '" + db_path().string() + "'") != std::string::npos, write.err);
  auto read = nobody({"status", "--json"});
  BOOST_TEST(read.exit_code == 0, read.err);
  BOOST_TEST(read.out.find("\"pending\":1") != std::string::npos, read.out);
  auto show = nobody({"show", "1"});
  BOOST_TEST(show.exit_code == 0, show.err);
  BOOST_TEST((snapshot(state_dir()) == before));
  fs::permissions(state_dir(), fs::perms(0755));
}

BOOST_AUTO_TEST_SUITE_END()
