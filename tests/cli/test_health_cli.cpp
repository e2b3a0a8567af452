// oos-health as a process: its exit code follows the conditions a test induces on a real state directory
// (stale backup, open breaker, deep queue, stale heartbeat, missing or corrupt database, bad config), and
// --json says what the text says. `oos-health validate`: config, secrets, directories, installed units.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "backup/backup.hpp"
#include "cli/cli_support.hpp"
#include "support/text.hpp"

using nlohmann::json;
using oos::test::CliFixture;
namespace fs = std::filesystem;

using oos::test::lines_of;

namespace {

constexpr std::int64_t k_hour = 3600 * 1000;

// `text` with every number replaced by '#': two runs a second apart print different ages ("0s ago", "1s ago").
std::string without_numbers(const std::string& text) {
  return std::regex_replace(text, std::regex("[0-9]+"), "#");
}

// The line of check `name` in a text run ("" when there is none).
std::string line_of(const oos::util::RunResult& r, const std::string& name) {
  for (const auto& line : lines_of(r.out))
    if (line.find(" " + name + ": ") != std::string::npos && !line.starts_with("OOS ")) return line;
  return "";
}

// A host in good health: a database with one queue, checked and backed up just now, nothing runnable.
struct HealthFixture : CliFixture {
  HealthFixture() {
    auto id = enqueue("default", "job");
    BOOST_TEST_REQUIRE(queue({"cancel", std::to_string(id)}).exit_code == 0);
    BOOST_TEST_REQUIRE(integrity({}).exit_code == 0);
    BOOST_TEST_REQUIRE(backup({}).exit_code == 0);
  }

  // Runs oos-health twice, as text and as JSON; checks that both say the same and that the first line is the
  // Nagios summary of the exit code; returns the text run.
  oos::util::RunResult check() {
    static const char* k_states[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
    auto text = health({});
    auto as_json = health({"--json"});
    BOOST_TEST_REQUIRE((text.exit_code >= 0 && text.exit_code <= 3), text.exit_code << text.err);
    BOOST_TEST(as_json.exit_code == text.exit_code);
    auto lines = lines_of(text.out);
    BOOST_TEST_REQUIRE(!lines.empty());
    BOOST_TEST(lines[0].starts_with(std::string("OOS ") + k_states[text.exit_code] + " - "), lines[0]);

    auto doc = json::parse(as_json.out);
    BOOST_TEST(doc["status"] == k_states[text.exit_code]);
    BOOST_TEST(doc["exit_code"] == text.exit_code);
    auto perfdata = doc["perfdata"].get<std::string>();
    auto first = doc["summary"].get<std::string>() + (perfdata.empty() ? "" : " | " + perfdata);
    BOOST_TEST(without_numbers(first) == without_numbers(lines[0]));
    BOOST_TEST_REQUIRE(doc["checks"].size() + 1 == lines.size(), text.out << as_json.out);
    for (std::size_t i = 0; i < doc["checks"].size(); ++i) {
      const auto& c = doc["checks"][i];
      BOOST_TEST(without_numbers(lines[i + 1]) ==
                 without_numbers(c["status"].get<std::string>() + " " + c["name"].get<std::string>() + ": " +
                                 c["message"].get<std::string>()));
    }
    return text;
  }

  // Moves the newest backup (and its manifest) to the name it would have had `age_ms` ago.
  void age_backup(std::int64_t age_ms) {
    auto backups = oos::backup::list_backups(state_dir() / "backups");
    BOOST_TEST_REQUIRE(!backups.empty());
    auto from = backups.front().path;
    auto to = from.parent_path() / oos::backup::backup_name(backups.front().created - age_ms);
    fs::rename(oos::backup::manifest_path(from), oos::backup::manifest_path(to));
    fs::rename(from, to);
  }

  void insert_worker(const std::string& name, std::int64_t heartbeat_age_ms) {
    auto now = oos::test::now_ms();
    sql_exec("INSERT INTO workers (name, pid, host, started_at, heartbeat_at, status, tasks_run) VALUES ('" + name +
             "', " + std::to_string(::getpid()) + ", 'elsewhere', " + std::to_string(now - 2 * k_hour) + ", " +
             std::to_string(now - heartbeat_age_ms) + ", 'idle', 0)");
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(health_cli)

BOOST_FIXTURE_TEST_CASE(a_healthy_host_is_ok, HealthFixture) {
  auto r = check();
  BOOST_TEST(r.exit_code == 0, r.out);
  BOOST_TEST(r.err.empty(), r.err);
  BOOST_TEST(line_of(r, "backup").starts_with("OK backup: newest oos-"), r.out);
  BOOST_TEST(line_of(r, "queue default") == "OK queue default: 0 runnable, 0 dead", r.out);
}

BOOST_FIXTURE_TEST_CASE(a_stale_backup_warns_then_goes_critical, HealthFixture) {
  age_backup(13 * k_hour);  // backup.interval 6h: past 2 intervals
  auto r = check();
  BOOST_TEST(r.exit_code == 1, r.out);
  BOOST_TEST(line_of(r, "backup").starts_with("WARNING backup: newest oos-"), r.out);
  age_backup(12 * k_hour);  // 25h: past 4 intervals
  r = check();
  BOOST_TEST(r.exit_code == 2, r.out);
  BOOST_TEST(line_of(r, "backup").find("is 1d01h old") != std::string::npos, r.out);
  BOOST_TEST_REQUIRE(backup({}).exit_code == 0);
  BOOST_TEST(check().exit_code == 0);
}

BOOST_FIXTURE_TEST_CASE(an_open_breaker_warns, HealthFixture) {
  auto now = std::to_string(oos::test::now_ms());
  sql_exec(
      "INSERT INTO breakers (kind, name, state, consecutive_failures, opened_at, cooldown_ms, updated_at) "
      "VALUES ('queue', 'default', 'open', 10, " +
      now + ", 60000, " + now + ")");
  auto r = check();
  BOOST_TEST(r.exit_code == 1, r.out);
  BOOST_TEST(line_of(r, "queue default").find("WARNING queue default: breaker open for") == 0, r.out);
  BOOST_TEST_REQUIRE(queue({"breaker", "default", "--reset"}).exit_code == 0);
  BOOST_TEST(check().exit_code == 0);
}

BOOST_FIXTURE_TEST_CASE(a_deep_queue_warns_while_a_worker_is_live, HealthFixture) {
  write_config("[queue]\ndepth_alert = 5\n");
  insert_worker("w1", 1000);
  std::string batch;
  for (int i = 0; i < 6; ++i) batch += "{\"type\":\"job\"}\n";
  BOOST_TEST_REQUIRE(queue({"enqueue", "default", "--batch"}, batch).exit_code == 0);
  auto r = check();
  BOOST_TEST(r.exit_code == 1, r.out);
  BOOST_TEST(line_of(r, "queue default").find("6 runnable tasks, over queue.depth_alert 5") != std::string::npos,
             r.out);
  BOOST_TEST(line_of(r, "workers") == "OK workers: 1 running, 6 tasks runnable", r.out);
}

BOOST_FIXTURE_TEST_CASE(a_stale_heartbeat_is_critical_only_while_tasks_are_runnable, HealthFixture) {
  insert_worker("w1", 45'000);
  auto r = check();
  BOOST_TEST(r.exit_code == 1, r.out);
  BOOST_TEST(line_of(r, "workers").starts_with("WARNING workers: worker w1 (pid "), r.out);
  enqueue("default", "job");
  r = check();
  BOOST_TEST(r.exit_code == 2, r.out);
  BOOST_TEST(std::regex_search(line_of(r, "workers"), std::regex("silent for 4[5-9]s while 1 tasks are runnable")),
             r.out);
}

BOOST_FIXTURE_TEST_CASE(dead_letter_growth_warns, HealthFixture) {
  insert_worker("w1", 1000);
  enqueue("default", "job");
  oos::test::LibraryWorker worker(db_path(), oos::test::now_ms());
  worker.fail(worker.claim("default"), oos::policy::FailureKind::permanent, "bad input", 65);
  auto r = check();
  BOOST_TEST(r.exit_code == 1, r.out);
  BOOST_TEST(line_of(r, "queue default").find("1 task dead-lettered in the last 1d") != std::string::npos, r.out);
}

BOOST_FIXTURE_TEST_CASE(a_missing_database_is_critical_and_not_created, CliFixture) {
  auto r = health({});
  BOOST_TEST(r.exit_code == 2, r.out);
  BOOST_TEST(r.out.starts_with("OOS CRITICAL - database: "), r.out);
  BOOST_TEST(!fs::exists(db_path()));
}

BOOST_FIXTURE_TEST_CASE(a_corrupt_database_is_critical_and_names_the_fix, HealthFixture) {
  // A header SQLite does not recognise: every open fails, whatever pages a query would have read.
  auto bytes = oos::test::read_file(db_path());
  oos::test::write_file(db_path(), std::string(4096, 'x') + bytes.substr(4096));
  auto r = health({});
  BOOST_TEST(r.exit_code == 2, r.out << r.err);
  BOOST_TEST(r.out.find("CRITICAL database: ") != std::string::npos, r.out);
  BOOST_TEST(r.out.find("oos-integrity check") != std::string::npos, r.out);
}

BOOST_FIXTURE_TEST_CASE(a_bad_config_is_unknown_in_nagios_terms, HealthFixture) {
  write_config("[queue]\nno_such_key = 1\n");
  auto r = health({});
  BOOST_TEST(r.exit_code == 3, r.out << r.err);
  BOOST_TEST(r.out.starts_with("OOS UNKNOWN - oos-health: "), r.out);
  BOOST_TEST(r.out.find("no_such_key") != std::string::npos, r.out);
  BOOST_TEST(health({"--bogus"}).exit_code == 64);
}

BOOST_FIXTURE_TEST_CASE(validate_passes_with_the_handler_secret_and_never_prints_it, HealthFixture) {
  write_config(oos::test::handler_toml("mail", "/bin/true", "env_keys = [\"OOS_TEST_MAIL_TOKEN\"]\n") +
               "[search]\nproviders = [\"searxng\"]\n");
  auto no_units = dir() / "empty-root";  // whatever this host has installed
  fs::create_directories(no_units);
  auto r = health({"validate", "--root", no_units.string()});
  BOOST_TEST(r.exit_code == 78, r.out << r.err);
  BOOST_TEST(line_of(r, "secret OOS_TEST_MAIL_TOKEN").starts_with("CRITICAL secret OOS_TEST_MAIL_TOKEN: absent"),
             r.out);

  const std::string token = "mail-token-0123456789-QRST";
  auto credentials = dir() / "credentials";
  fs::create_directories(credentials);
  oos::test::write_file(credentials / "OOS_TEST_MAIL_TOKEN", token);
  r = health({"validate", "--root", no_units.string()}, {"CREDENTIALS_DIRECTORY=" + credentials.string()});
  BOOST_TEST(r.exit_code == 0, r.out << r.err);
  BOOST_TEST(r.out.starts_with("OOS OK - "), r.out);
  BOOST_TEST(line_of(r, "secret OOS_TEST_MAIL_TOKEN").starts_with("OK secret OOS_TEST_MAIL_TOKEN: present"), r.out);
  BOOST_TEST((r.out + r.err).find(token.substr(0, 12)) == std::string::npos, r.out);
  auto as_json =
      health({"validate", "--root", no_units.string(), "--json"}, {"CREDENTIALS_DIRECTORY=" + credentials.string()});
  BOOST_TEST(as_json.exit_code == 0);
  BOOST_TEST(json::parse(as_json.out)["summary"] == lines_of(r.out)[0]);
}

BOOST_FIXTURE_TEST_CASE(validate_reports_a_bad_config_as_78, CliFixture) {
  write_config("[scale]\nmax_workers = \"many\"\n");
  auto r = health({"validate"});
  BOOST_TEST(r.exit_code == 78, r.out << r.err);
  BOOST_TEST(r.out.starts_with("OOS CRITICAL - config: "), r.out);
  BOOST_TEST(r.out.find("max_workers") != std::string::npos, r.out);
}

BOOST_FIXTURE_TEST_CASE(validate_verifies_installed_units, CliFixture) {
  // An install into a stage root, as scripts/check-units makes one: the units, the tools they start, and
  // the systemd units, shell and kill they refer to.
  auto stage = dir() / "stage";
  auto build_dir = fs::path(oos::test::binary_from_env("OOS_HEALTH_BIN")).parent_path().parent_path().parent_path();
  auto install = run({"env", "DESTDIR=" + stage.string(), "PREFIX=/usr/local", "BUILD_DIR=" + build_dir.string(),
                      std::string(OOS_SOURCE_DIR) + "/scripts/install", "install"});
  BOOST_TEST_REQUIRE(install.exit_code == 0, install.out << install.err);
  fs::create_directories(stage / "lib/systemd");
  fs::create_directories(stage / "bin");
  fs::copy("/lib/systemd/system", stage / "lib/systemd/system",
           fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  fs::copy_file("/bin/sh", stage / "bin/sh");
  fs::copy_file("/bin/kill", stage / "bin/kill");  // ExecReload= of the worker

  auto r = health({"validate", "--root", stage.string()});
  BOOST_TEST(r.exit_code == 0, r.out << r.err);
  BOOST_TEST(line_of(r, "units") == "OK units: all 12 installed", r.out);
  BOOST_TEST(line_of(r, "units verify").starts_with("OK units verify: systemd-analyze verify is silent"), r.out);

  auto unit = stage / "usr/local/lib/systemd/system/oos-backup.service";
  oos::test::write_file(unit, oos::test::read_file(unit) + "NoSuchSetting=1\n");
  fs::remove(stage / "usr/local/lib/systemd/system/oos-scale.timer");
  r = health({"validate", "--root", stage.string()});
  BOOST_TEST(r.exit_code == 2, r.out << r.err);
  BOOST_TEST(line_of(r, "units").find("missing oos-scale.timer") != std::string::npos, r.out);
  BOOST_TEST(line_of(r, "units verify").find("NoSuchSetting") != std::string::npos, r.out);
}

BOOST_AUTO_TEST_SUITE_END()
