// The bash completion (completion/oos.bash) driven in a real bash, as bash drives it: COMP_WORDS and COMP_CWORD
// set, the function called, COMPREPLY read. The verbs and options come from the built tools, the queue names and
// task ids from the test's database (SQLite: cli.shell_completion; PostgreSQL through OOS_DATABASE_URL:
// cli_pg.shell_completion).
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli_support.hpp"

using nlohmann::json;
using oos::test::binary_from_env;
using oos::test::CliFixture;
using oos::test::TestBackend;

namespace {

using Words = std::vector<std::string>;

const std::string k_script = std::string(OOS_SOURCE_DIR) + "/completion/oos.bash";

Words lines_of(const std::string& text) {
  Words out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// COMPREPLY after completing the last of `words` (words[0] is the tool) with the completion `script`, in the order
// the function left it. PATH starts with `bin_dir`, by default oos-queue's directory: the other tools ask the
// oos-queue on PATH for queue names and task ids.
Words complete(CliFixture& f, const Words& words, const std::string& script = k_script, std::string bin_dir = "") {
  if (bin_dir.empty()) bin_dir = std::filesystem::path(binary_from_env("OOS_QUEUE_BIN")).parent_path();
  const char* path = std::getenv("PATH");
  Words argv{"env",
             "PATH=" + bin_dir + ":" + (path ? path : "/usr/bin:/bin"),
             "bash",
             "-c",
             "source \"$1\" || exit 1; shift; COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); _oos_complete || exit 1; "
             "((${#COMPREPLY[@]} == 0)) || printf '%s\\n' \"${COMPREPLY[@]}\"",
             "bash",
             script};
  argv.insert(argv.end(), words.begin(), words.end());
  auto r = f.run(argv);
  BOOST_TEST_REQUIRE(r.exit_code == 0, "bash: " << r.err);
  BOOST_TEST(r.err.empty(), r.err);
  return lines_of(r.out);
}

Words sorted(Words words) {
  std::sort(words.begin(), words.end());
  return words;
}

// The tool's words with --state-dir and --config of the fixture, then `rest`.
Words at_state(CliFixture& f, const char* binary_env, const Words& rest) {
  Words words{binary_from_env(binary_env), "--state-dir", f.state_dir().string(), "--config", f.config_path().string()};
  words.insert(words.end(), rest.begin(), rest.end());
  return words;
}

// The subcommands `TOOL --help` lists under "SUBCOMMANDS:" (CLI11's help).
Words help_verbs(CliFixture& f, const std::string& binary) {
  auto r = f.run({binary, "--help"});
  BOOST_TEST_REQUIRE(r.exit_code == 0);
  Words verbs;
  bool in_section = false;
  for (const auto& line : lines_of(r.out)) {
    if (line == "Subcommands:" || line == "SUBCOMMANDS:") {
      in_section = true;
    } else if (in_section && line.starts_with("  ") && line.size() > 2 && line[2] != ' ') {
      verbs.push_back(line.substr(2, line.find(' ', 2) - 2));
    } else if (in_section && !line.empty() && !line.starts_with(" ")) {
      in_section = false;
    }
  }
  return sorted(verbs);
}

json claim(CliFixture& f) {
  auto r = f.queue({"claim", "default", "--json"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  return json::parse(r.out);
}

// The ids of `ids` that start with `prefix`, newest first: what the completion offers.
Words newest_with_prefix(const std::vector<long long>& ids, const std::string& prefix) {
  std::vector<long long> chosen;
  for (auto id : ids)
    if (std::to_string(id).starts_with(prefix)) chosen.push_back(id);
  std::sort(chosen.rbegin(), chosen.rend());
  Words out;
  for (auto id : chosen) out.push_back(std::to_string(id));
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(shell_completion)

BOOST_FIXTURE_TEST_CASE(every_tool_is_registered_and_offers_the_verbs_its_help_lists, CliFixture) {
  Words tools;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(OOS_SOURCE_DIR) + "/tools"))
    tools.push_back(entry.path().filename().string());
  BOOST_TEST_REQUIRE(tools.size() >= 10u);
  std::string check =
      "source \"$1\" || exit 1; shift; for t in \"$@\"; do complete -p \"$t\" >/dev/null || exit 1; done";
  Words argv{"bash", "-c", check, "bash", k_script};
  argv.insert(argv.end(), tools.begin(), tools.end());
  auto r = run(argv);
  BOOST_TEST(r.exit_code == 0, "a tool of tools/ without a completion: " << r.err);

  // (oos-retry offers the ids of dead tasks too: none in this empty database.)
  for (const char* env : {"OOS_QUEUE_BIN", "OOS_RETRY_BIN", "OOS_BACKUP_BIN", "OOS_HEALTH_BIN", "OOS_INTEGRITY_BIN"}) {
    const auto binary = binary_from_env(env);
    auto verbs = help_verbs(*this, binary);
    BOOST_TEST_REQUIRE(!verbs.empty(), env);
    BOOST_TEST(sorted(complete(*this, at_state(*this, env, {""}))) == verbs, env);
  }
  auto queue_verbs = complete(*this, {binary_from_env("OOS_QUEUE_BIN"), "st"});
  BOOST_TEST((sorted(queue_verbs) == Words{"stats", "status"}));
  auto all = complete(*this, {binary_from_env("OOS_QUEUE_BIN"), ""});
  BOOST_TEST((std::find(all.begin(), all.end(), "__complete") == all.end()));  // hidden, as in --help
}

BOOST_FIXTURE_TEST_CASE(options_are_those_of_the_verb_and_of_the_tool, CliFixture) {
  const auto queue_bin = binary_from_env("OOS_QUEUE_BIN");
  BOOST_TEST((sorted(complete(*this, {queue_bin, "enqueue", "--d"})) == Words{"--data", "--delay"}));
  auto list = complete(*this, {queue_bin, "list", "--"});
  for (const char* option : {"--status", "--limit", "--json", "--state-dir", "--config", "--help"})
    BOOST_TEST((std::find(list.begin(), list.end(), option) != list.end()), option);
  BOOST_TEST((std::find(list.begin(), list.end(), "--data") == list.end()));
  // An option's value from its set of choices, after a flag and a value.
  BOOST_TEST((sorted(complete(*this, {queue_bin, "list", "--json", "--status", ""})) ==
              Words{"cancelled", "dead", "pending", "running", "succeeded"}));
  BOOST_TEST((complete(*this, {queue_bin, "list", "--status", "r"}) == Words{"running"}));
  // A tool without verbs: its options.
  BOOST_TEST((sorted(complete(*this, {binary_from_env("OOS_SCALE_BIN"), "--d"})) == Words{"--dry-run"}));
}

BOOST_FIXTURE_TEST_CASE(queue_names_come_from_the_database_the_command_line_names, CliFixture) {
  write_config("[queues.zeta]\n");
  enqueue("mail", "send");
  enqueue("mailbox", "sort");
  enqueue("images", "resize");
  BOOST_TEST((complete(*this, at_state(*this, "OOS_QUEUE_BIN", {"stats", "ma"})) == Words{"mail", "mailbox"}));
  // The config's [queues.zeta] is a queue too: --config was read.
  BOOST_TEST(
      (complete(*this, at_state(*this, "OOS_QUEUE_BIN", {"pause", ""})) == Words{"images", "mail", "mailbox", "zeta"}));
  // --state-dir=DIR as bash splits it (COMP_WORDBREAKS holds '='), and as one word.
  const auto queue_bin = binary_from_env("OOS_QUEUE_BIN");
  BOOST_TEST((complete(*this, {queue_bin, "--state-dir", "=", state_dir().string(), "list", "i"}) == Words{"images"}));
  BOOST_TEST((complete(*this, {queue_bin, "--state-dir=" + state_dir().string(), "list", "i"}) == Words{"images"}));
  // Another tool's --queue asks oos-queue.
  BOOST_TEST((complete(*this, at_state(*this, "OOS_WORKER_BIN", {"--queue", "mail"})) == Words{"mail", "mailbox"}));
  if (backend() == TestBackend::sqlite) {
    // Another state directory holds other queues (on PostgreSQL, OOS_DATABASE_URL names the database).
    std::filesystem::create_directories(dir() / "other");
    BOOST_TEST(complete(*this, {queue_bin, "--state-dir", (dir() / "other").string(), "stats", ""}).empty());
  }
}

BOOST_FIXTURE_TEST_CASE(task_ids_are_the_newest_that_start_with_the_digits_in_the_state_the_verb_takes, CliFixture) {
  std::vector<long long> ids;
  for (int i = 0; i < 12; ++i) ids.push_back(enqueue("default", "job"));
  BOOST_TEST(complete(*this, at_state(*this, "OOS_QUEUE_BIN", {"show", "1"})) == newest_with_prefix(ids, "1"));
  BOOST_TEST(complete(*this, at_state(*this, "OOS_QUEUE_BIN", {"show", ""})) == newest_with_prefix(ids, ""));
  // A running task: complete, fail and renew take it; cancel takes the pending ones.
  auto claimed = claim(*this);
  const auto running = std::to_string(claimed.at("id").get<long long>());
  BOOST_TEST((complete(*this, at_state(*this, "OOS_QUEUE_BIN", {"complete", ""})) == Words{running}));
  auto pending = complete(*this, at_state(*this, "OOS_QUEUE_BIN", {"cancel", ""}));
  BOOST_TEST(pending.size() == ids.size() - 1);
  BOOST_TEST((std::find(pending.begin(), pending.end(), running) == pending.end()));
  // oos-retry offers the dead ones, after its verbs when no verb is typed.
  auto failed = queue({"fail", running, "--token", claimed.at("lease").at("token").get<std::string>(), "--error",
                       "bad input", "--permanent"});
  BOOST_TEST_REQUIRE(failed.exit_code == 0, failed.err);
  BOOST_TEST((complete(*this, at_state(*this, "OOS_RETRY_BIN", {"requeue", ""})) == Words{running}));
  auto top = complete(*this, at_state(*this, "OOS_RETRY_BIN", {""}));
  BOOST_TEST((std::find(top.begin(), top.end(), running) != top.end()));
  BOOST_TEST((std::find(top.begin(), top.end(), "requeue") != top.end()));
}

// make install: a completion named after each tool, which completes the installed tools found on PATH.
BOOST_FIXTURE_TEST_CASE(install_puts_a_completion_for_each_tool_that_finds_the_tools_on_path, CliFixture) {
  namespace fs = std::filesystem;
  const auto stage = dir() / "stage";
  const auto build_dir = fs::path(binary_from_env("OOS_QUEUE_BIN")).parent_path().parent_path().parent_path();
  auto install = run({"env", "DESTDIR=" + stage.string(), "PREFIX=/usr/local", "BUILD_DIR=" + build_dir.string(),
                      std::string(OOS_SOURCE_DIR) + "/scripts/install", "install"});
  BOOST_TEST_REQUIRE(install.exit_code == 0, install.out << install.err);
  const auto completions = stage / "usr/local/share/bash-completion/completions";
  for (const auto& entry : fs::directory_iterator(std::string(OOS_SOURCE_DIR) + "/tools"))
    BOOST_TEST(fs::is_regular_file(completions / entry.path().filename()), entry.path().filename());
  enqueue("mail", "send");
  const auto bin = (stage / "usr/local/bin").string();
  BOOST_TEST((sorted(complete(*this, {"oos-queue", "st"}, (completions / "oos-queue").string(), bin)) ==
              Words{"stats", "status"}));
  BOOST_TEST((complete(*this,
                       {"oos-retry", "--state-dir", state_dir().string(), "--config", config_path().string(), "list",
                        "--queue", "m"},
                       (completions / "oos-retry").string(), bin) == Words{"mail"}));
  auto uninstall = run({"env", "DESTDIR=" + stage.string(), "PREFIX=/usr/local", "BUILD_DIR=" + build_dir.string(),
                        std::string(OOS_SOURCE_DIR) + "/scripts/install", "uninstall"});
  BOOST_TEST_REQUIRE(uninstall.exit_code == 0, uninstall.out << uninstall.err);
  BOOST_TEST(!fs::exists(completions / "oos-queue"));
}

BOOST_AUTO_TEST_SUITE_END()
