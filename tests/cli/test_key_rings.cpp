// Key rings (docs/reference.md section 6): a real oos-worker hands each run one key of a ring, takes a spent key
// out of the ring for its cooldown, and makes the tasks wait when every key cools down. What each run received is
// read from the handler's own record.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_support.hpp"
#include "support/temp_dir.hpp"
#include "util/time.hpp"

using oos::test::CliFixture;
using oos::test::handler_toml;
using oos::test::log_line;
using oos::test::read_file;
using namespace std::chrono_literals;

namespace {

// Obviously fake keys: never real credentials.
const std::vector<std::string> k_keys{"test-ring-key-aaaa-0001", "test-ring-key-bbbb-0002", "test-ring-key-cccc-0003"};

std::string ring_secret() {
  return "OPENROUTER_KEYS= " + k_keys[0] + " , " + k_keys[1] + ",," + k_keys[2] + " ";
}

// The handler's record: one "TASK_ID KEY" line per run, in order.
std::vector<std::pair<std::string, std::string>> runs_of(const std::filesystem::path& record) {
  std::vector<std::pair<std::string, std::string>> runs;
  std::istringstream lines(read_file(record));
  for (std::string id, key; lines >> id >> key;) runs.emplace_back(id, key);
  return runs;
}

// How many times `needle` occurs in `text`.
long count_of(const std::string& text, const std::string& needle) {
  long n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The value of the sample `series` (name and labels as written) in a Prometheus text; NaN when absent.
double sample(const std::string& text, const std::string& series) {
  auto at = ("\n" + text).find("\n" + series + " ");
  if (at == std::string::npos) return std::numeric_limits<double>::quiet_NaN();
  return std::stod(text.substr(at + series.size() + 1));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(key_rings)

BOOST_FIXTURE_TEST_CASE(a_spent_key_leaves_the_ring_for_its_cooldown_and_the_others_carry_the_work, CliFixture) {
  auto record = dir() / "record";
  // The second key is spent: the API refuses it, the handler says so on its last stderr line and exits 75.
  auto script = write_script("llm.sh", "echo \"$OOS_TASK_ID $OPENROUTER_KEY\" >> '" + record.string() +
                                           "'\n"
                                           "if [ \"$OPENROUTER_KEY\" = \"$SPENT\" ]; then\n"
                                           "  echo 'HTTP 429: key limit reached' >&2\n"
                                           "  echo 'oos:key-exhausted' >&2\n"
                                           "  exit 75\n"
                                           "fi\n"
                                           "echo done\n");
  write_config("[worker]\npoll_interval = \"100ms\"\n\n" +
               handler_toml("llm", script,
                            "key_rings = [\"OPENROUTER_KEYS\"]\nkey_cooldown = \"1h\"\nenv = { SPENT = \"" + k_keys[1] +
                                "\" }"));
  for (int i = 0; i < 6; ++i) enqueue("default", "llm");
  auto r = worker({"--drain"}, {ring_secret()});
  BOOST_TEST(r.exit_code == 0, r.err);

  auto runs = runs_of(record);
  BOOST_TEST_REQUIRE(runs.size() == 7u, read_file(record));  // six tasks, one of them twice
  std::map<std::string, int> by_key;
  for (const auto& [id, key] : runs) ++by_key[key];
  // The spent key was handed out once and never again during its cooldown; the other two carried the work.
  BOOST_TEST(by_key[k_keys[1]] == 1);
  BOOST_TEST(by_key[k_keys[0]] + by_key[k_keys[2]] == 6);
  BOOST_TEST(by_key[k_keys[0]] >= 2);
  BOOST_TEST(by_key[k_keys[2]] >= 2);
  // No run gets the whole ring, and consecutive runs never share a key while another is free.
  for (std::size_t i = 1; i < runs.size(); ++i) BOOST_TEST(runs[i].second != runs[i - 1].second);
  // Every task succeeded on its first counted attempt: the spent key's run did not count.
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'succeeded' AND attempts = 1") == 6);
  auto spent_task = std::find_if(runs.begin(), runs.end(), [](const auto& run) { return run.second == k_keys[1]; });
  BOOST_TEST(sql_int("SELECT count(*) FROM task_attempts WHERE task_id = " + spent_task->first) <= 1);
  BOOST_TEST(sql_int("SELECT count(*) FROM key_ring_keys WHERE ring = 'OPENROUTER_KEYS' AND cooldown_until > 0") == 1);
  BOOST_TEST(r.err.find("reported exhausted; not handed out until") != std::string::npos, r.err);
  // oos-health shows the ring with one key cooling down, which is no problem while the others are free.
  auto checked = health({}, {ring_secret()});
  BOOST_TEST(!log_line(checked.out, "OK key ring OPENROUTER_KEYS: 2 of 3 keys available: ").empty(), checked.out);
  BOOST_TEST(count_of(checked.out, " cooling down until ") == 1, checked.out);
  BOOST_TEST(queue({"status"}).out.find("every key cools down") == std::string::npos);
  // The keys are known to the database and the log by fingerprint only.
  for (const auto& key : k_keys) {
    BOOST_TEST(r.err.find(key) == std::string::npos, r.err);
    BOOST_TEST(sql_int("SELECT count(*) FROM key_ring_keys WHERE fingerprint = '" + key + "'") == 0);
  }
  if (backend() == oos::test::TestBackend::sqlite) {
    for (const auto& entry : std::filesystem::directory_iterator(state_dir()))
      if (entry.is_regular_file())
        for (const auto& key : k_keys) BOOST_TEST(read_file(entry.path()).find(key) == std::string::npos);
  }
}

BOOST_FIXTURE_TEST_CASE(with_every_key_cooling_down_the_tasks_wait_for_the_first_to_come_back, CliFixture) {
  auto record = dir() / "record";
  auto seen = dir() / "seen";
  // Each key is spent the first time it is used: for 2 s (the first key), 4 s and 6 s (by its retry-after).
  auto script = write_script("llm.sh", "echo \"$OOS_TASK_ID $OPENROUTER_KEY\" >> '" + record.string() +
                                           "'\n"
                                           "if ! grep -qx \"$OPENROUTER_KEY\" '" +
                                           seen.string() +
                                           "' 2>/dev/null; then\n"
                                           "  echo \"$OPENROUTER_KEY\" >> '" +
                                           seen.string() +
                                           "'\n"
                                           "  case \"$OPENROUTER_KEY\" in *0001) s=2;; *0002) s=4;; *) s=6;; esac\n"
                                           "  echo \"oos:key-exhausted retry-after=$s\" >&2\n"
                                           "  exit 75\n"
                                           "fi\n"
                                           "echo done\n");
  write_config("[worker]\npoll_interval = \"100ms\"\n\n" +
               handler_toml("llm", script, "key_rings = [\"OPENROUTER_KEYS\"]"));
  for (int i = 0; i < 3; ++i) enqueue("default", "llm");
  auto started = std::chrono::steady_clock::now();
  auto r = worker({"--drain"}, {ring_secret()});
  auto took = std::chrono::steady_clock::now() - started;
  BOOST_TEST(r.exit_code == 0, r.err);

  auto runs = runs_of(record);
  BOOST_TEST_REQUIRE(runs.size() == 6u, read_file(record));  // three spent keys, then the three tasks
  // The three keys were spent in turn; then the first one back (after 2 s, the others 4 s and 6 s) ran all three.
  for (std::size_t i = 0; i < 3; ++i) BOOST_TEST(runs[i].second == k_keys[i]);
  for (std::size_t i = 3; i < 6; ++i) BOOST_TEST(runs[i].second == k_keys[0]);
  // Not before the first key was back. (That they ran before the second was back, at 4 s, the keys above show:
  // by then the second, used longer ago, would have been handed out.)
  BOOST_TEST(took >= 2s);
  // The tasks waited (each released once until the first key's return, not polled in a loop), nothing counted,
  // nothing dead-lettered.
  BOOST_TEST(count_of(r.err, "every key of ring OPENROUTER_KEYS cools down") <= 3, r.err);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'succeeded' AND attempts = 1") == 3);
}

BOOST_FIXTURE_TEST_CASE(a_cooling_ring_of_several_uses_no_key_of_the_others, CliFixture) {
  auto record = dir() / "record";
  // The first run reports its keys spent for 2 s (a handler of two rings spends both); the task goes back, and
  // until the second ring's only key is back both tasks wait. Waiting must not use up keys of the first ring.
  auto script = write_script("llm.sh", "echo \"$OOS_TASK_ID $OPENROUTER_KEY $OTHER_KEY\" >> '" + record.string() +
                                           "'\n"
                                           "if [ ! -e '" +
                                           (dir() / "spent").string() +
                                           "' ]; then\n"
                                           "  touch '" +
                                           (dir() / "spent").string() +
                                           "'\n"
                                           "  echo 'oos:key-exhausted retry-after=2' >&2\n"
                                           "  exit 75\n"
                                           "fi\n"
                                           "echo done\n");
  write_config("[worker]\npoll_interval = \"100ms\"\n\n" +
               handler_toml("llm", script, "key_rings = [\"OPENROUTER_KEYS\", \"OTHER_KEYS\"]"));
  for (int i = 0; i < 2; ++i) enqueue("default", "llm");
  auto r = worker({"--drain"}, {ring_secret(), "OTHER_KEYS=test-other-key-dddd-0004"});
  BOOST_TEST(r.exit_code == 0, r.err);

  std::istringstream lines(read_file(record));
  long runs = 0;
  for (std::string line; std::getline(lines, line);) ++runs;
  BOOST_TEST_REQUIRE(runs == 3, read_file(record));  // the spent run, then the two tasks
  BOOST_TEST(count_of(r.err, "every key of ring OTHER_KEYS cools down") >= 1, r.err);
  // Each ring's keys were used once per run that happened, never for a run sent back to wait.
  BOOST_TEST(sql_int("SELECT sum(uses_today) FROM key_ring_keys WHERE ring = 'OPENROUTER_KEYS'") == runs);
  BOOST_TEST(sql_int("SELECT sum(uses_today) FROM key_ring_keys WHERE ring = 'OTHER_KEYS'") == runs);
  BOOST_TEST(sql_int("SELECT count(*) FROM tasks WHERE status = 'succeeded' AND attempts = 1") == 2);
}

// What the operator sees of a ring (docs/reference.md sections 8.9, 13 and 9.2): oos-health its keys by
// fingerprint and a WARNING when every one cools down, the metrics each key's state, and oos-queue status why the
// handler's tasks wait. Never a key.
BOOST_FIXTURE_TEST_CASE(health_metrics_and_status_show_a_cooling_ring_by_fingerprint_and_why_its_tasks_wait,
                        CliFixture) {
  using nlohmann::json;
  auto script = write_script("llm.sh", "echo 'HTTP 429' >&2\necho 'oos:key-exhausted' >&2\nexit 75\n");
  write_config("[worker]\npoll_interval = \"100ms\"\n\n" +
               handler_toml("llm", script, "key_rings = [\"OPENROUTER_KEYS\"]\nkey_cooldown = \"1h\""));
  const std::vector<std::string> secret{"OPENROUTER_KEYS=" + k_keys[0] + "," + k_keys[1]};
  create_database();
  // Before any run took a key, the ring is shown and is no problem.
  auto before = health({}, secret);
  BOOST_TEST(!log_line(before.out, "OK key ring OPENROUTER_KEYS: no key handed out yet").empty(), before.out);
  BOOST_TEST(queue({"metrics"}).out.find("oos_key_ring_") == std::string::npos);

  // Both keys are spent in turn; then the task waits for the first to come back, in an hour.
  enqueue("default", "llm");
  auto r = worker({"--drain"}, secret);
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST_REQUIRE(sql_int("SELECT count(*) FROM key_ring_keys WHERE cooldown_until > 0 AND uses_today = 1") == 2);
  std::vector<std::string> fingerprints;
  std::map<std::string, long long> cooldown_until;
  for (const auto& order : {"ASC", "DESC"}) {
    auto fingerprint = sql_text(std::string("SELECT fingerprint FROM key_ring_keys ORDER BY cooldown_until ") + order +
                                ", fingerprint " + order + " LIMIT 1");
    fingerprints.push_back(fingerprint);
    cooldown_until[fingerprint] =
        sql_int("SELECT cooldown_until FROM key_ring_keys WHERE fingerprint = '" + fingerprint + "'");
  }
  BOOST_TEST_REQUIRE(fingerprints[0] != fingerprints[1]);
  auto first_back = oos::util::format_iso8601(cooldown_until[fingerprints[0]]);

  auto h = health({}, secret);
  BOOST_TEST(h.exit_code >= 1, h.out);
  auto ring = log_line(h.out, "WARNING key ring OPENROUTER_KEYS: ");
  BOOST_TEST(ring.starts_with("WARNING key ring OPENROUTER_KEYS: every key cools down; the first is back at " +
                              first_back + " (in "),
             h.out);
  BOOST_TEST(
      ring.find("tasks of handler llm wait until then; add a key to the secret OPENROUTER_KEYS") != std::string::npos,
      ring);
  for (const auto& f : fingerprints)
    BOOST_TEST(ring.find(f + " cooling down until " + oos::util::format_iso8601(cooldown_until[f]) +
                         ", 1 use today, last used ") != std::string::npos,
               ring);
  auto doc = json::parse(health({"--json"}, secret).out);
  BOOST_TEST_REQUIRE(doc["key_rings"].size() == 1u, doc.dump());
  BOOST_TEST(doc["key_rings"][0]["ring"] == "OPENROUTER_KEYS");
  BOOST_TEST(doc["key_rings"][0]["handlers"] == json::array({"llm"}));
  BOOST_TEST_REQUIRE(doc["key_rings"][0]["keys"].size() == 2u);
  for (const auto& key : doc["key_rings"][0]["keys"]) {
    BOOST_TEST(key["available"] == false);
    BOOST_TEST(key["uses_today"] == 1);
    BOOST_TEST(key["cooldown_until"] ==
               oos::util::format_iso8601(cooldown_until[key["fingerprint"].get<std::string>()]));
  }

  auto metrics = queue({"metrics"}).out;
  for (const auto& f : fingerprints) {
    auto labels = "{ring=\"OPENROUTER_KEYS\",key=\"" + f + "\"}";
    BOOST_TEST(sample(metrics, "oos_key_ring_key_available" + labels) == 0.0, metrics);
    BOOST_TEST(sample(metrics, "oos_key_ring_key_uses_today" + labels) == 1.0);
    BOOST_TEST(sample(metrics, "oos_key_ring_key_cooldown_until_seconds" + labels) ==
               static_cast<double>(cooldown_until[f]) / 1000);
  }

  auto status = run_tool("OOS_QUEUE_BIN", {"status"}, secret);
  BOOST_TEST(status.out.find("key ring OPENROUTER_KEYS: every key cools down until " + first_back +
                             "; tasks of handler llm wait until then\n") != std::string::npos,
             status.out);
  auto status_json = run_tool("OOS_QUEUE_BIN", {"status", "--json"}, secret);
  auto cooling = json::parse(status_json.out)["cooling_key_rings"];
  BOOST_TEST(
      cooling == json::parse(R"([{"ring": "OPENROUTER_KEYS", "until": ")" + first_back + R"(", "handlers": ["llm"]}])"),
      status_json.out);

  for (const auto& shown : {before.out, h.out, h.err, doc.dump(), metrics, status.out, status.err, status_json.out})
    for (const auto& key : k_keys) BOOST_TEST(shown.find(key) == std::string::npos, shown);
}

BOOST_FIXTURE_TEST_CASE(a_ring_that_is_not_set_fails_the_run_without_starting_the_handler, CliFixture) {
  auto record = dir() / "record";
  write_config(handler_toml("llm", write_script("llm.sh", "echo ran >> '" + record.string() + "'\n"),
                            "key_rings = [\"OOS_TEST_MISSING_KEYS\"]"));
  enqueue("default", "llm", {"--max-attempts", "1"});
  auto r = worker({"--max-tasks", "1"});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(!std::filesystem::exists(record));
  BOOST_TEST(sql_text("SELECT last_error FROM tasks") ==
             "handler 'llm': key ring 'OOS_TEST_MISSING_KEYS' named in key_rings is not set or holds no key");
}

BOOST_AUTO_TEST_SUITE_END()
