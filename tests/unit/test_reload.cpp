// plan_reload(): what a worker's reload (SIGHUP) takes from the file it reads again and what it keeps until a
// restart.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "config.hpp"
#include "worker/reload.hpp"

using namespace oos;
using Names = std::vector<std::string>;

namespace {

// Each handler's command: what a comparison of two handler maps needs to show here.
std::map<std::string, Names> commands(const worker::Handlers& handlers) {
  std::map<std::string, Names> out;
  for (const auto& [type, handler] : handlers) out[type] = handler.command;
  return out;
}

config::Config with_handlers(const std::vector<std::pair<std::string, std::string>>& handlers) {
  config::Config c;
  for (const auto& [type, program] : handlers) c.handlers[type].command = {program};
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reload)

BOOST_AUTO_TEST_CASE(the_same_file_changes_nothing) {
  auto running = with_handlers({{"a", "/bin/a"}});
  auto plan = worker::plan_reload(running, running);
  BOOST_TEST(!plan.changes_handlers());
  BOOST_TEST(plan.needs_restart.empty());
  BOOST_TEST((commands(plan.handlers) == commands(running.handlers)));
  BOOST_TEST(worker::describe_handler_changes(plan) == "no handler changed");
}

BOOST_AUTO_TEST_CASE(handlers_added_changed_and_removed_take_effect_and_are_named) {
  auto running = with_handlers({{"keep", "/bin/keep"}, {"edit", "/bin/edit"}, {"drop", "/bin/drop"}});
  auto next = with_handlers({{"keep", "/bin/keep"}, {"edit", "/bin/edit2"}, {"new", "/bin/new"}});
  next.handlers["keep"].timeout = running.handlers["keep"].timeout;
  auto plan = worker::plan_reload(running, next);
  BOOST_TEST(plan.changes_handlers());
  BOOST_TEST(plan.added == Names{"new"});
  BOOST_TEST(plan.changed == Names{"edit"});
  BOOST_TEST(plan.removed == Names{"drop"});
  BOOST_TEST((commands(plan.handlers) == commands(next.handlers)));
  BOOST_TEST(plan.needs_restart.empty());
  BOOST_TEST(worker::describe_handler_changes(plan) ==
             "handler 'new' added, handler 'edit' changed, handler 'drop' removed");
}

BOOST_AUTO_TEST_CASE(any_key_of_a_handler_table_is_a_change) {
  auto running = with_handlers({{"a", "/bin/a"}});
  std::vector<std::function<void(config::HandlerConfig&)>> edits{
      [](auto& h) { h.command.push_back("--flag"); },
      [](auto& h) { h.timeout = std::chrono::seconds(5); },
      [](auto& h) { h.env_keys.push_back("TOKEN"); },
      [](auto& h) { h.pass_env.push_back("LANG"); },
      [](auto& h) { h.env["A"] = "1"; },
      [](auto& h) { h.permanent_exit_codes.push_back(3); },
      [](auto& h) { h.key_rings.push_back("OPENROUTER_KEYS"); },
      [](auto& h) { h.key_cooldown = std::chrono::minutes(5); },
      [](auto& h) { h.key_exhausted_exit_code = 42; },
  };
  for (std::size_t i = 0; i < edits.size(); ++i) {
    auto next = running;
    edits[i](next.handlers["a"]);
    BOOST_TEST(worker::plan_reload(running, next).changed == Names{"a"}, "edit " << i);
  }
}

// The worker reads these at start only (the stores, the logger, the runner's intervals, the search client): a
// change to any field is named and kept as it was, the handlers still come from the new file.
BOOST_AUTO_TEST_CASE(each_setting_read_at_start_is_kept_until_a_restart_and_named) {
  using namespace std::chrono_literals;
  std::vector<std::pair<std::string, std::function<void(config::Config&)>>> edits{
      {"paths.state_dir", [](auto& c) { c.state_dir = "/elsewhere"; }},
      {"[db]", [](auto& c) { c.db.synchronous = config::Synchronous::normal; }},
      {"[db]", [](auto& c) { c.db.busy_timeout = 9s; }},
      {"[db]", [](auto& c) { c.db.url = "postgresql://db/oos"; }},
      {"[db]", [](auto& c) { c.db.listen = false; }},
      {"[db]", [](auto& c) { c.db.transaction_warning = 9s; }},
      {"[db]", [](auto& c) { c.db.clock_skew_warning = 9s; }},
      {"[log]", [](auto& c) { c.log.level = config::LogLevel::debug; }},
      {"[log]", [](auto& c) { c.log.format = config::LogFormat::json; }},
      {"[log]", [](auto& c) { c.log.file = "/var/log/oos.log"; }},
      {"[log]", [](auto& c) { c.log.max_size = 1; }},
      {"[log]", [](auto& c) { c.log.max_files = 1; }},
      {"[queue]", [](auto& c) { c.queue.max_attempts = 2; }},
      {"[queue]", [](auto& c) { c.queue.backoff_seconds = {5}; }},
      {"[queue]", [](auto& c) { c.queue.backoff_jitter = 0; }},
      {"[queue]", [](auto& c) { c.queue.lease = 99s; }},
      {"[queue]", [](auto& c) { c.queue.depth_alert = 1; }},
      {"[queue]", [](auto& c) { c.queue.dead_retention = 1s; }},
      {"[queue]", [](auto& c) { c.queue.succeeded_retention = 1s; }},
      {"[queue]", [](auto& c) { c.queue.max_payload = 2; }},
      {"[queues]", [](auto& c) { c.queues["q"].max_attempts = 2; }},
      {"[breaker]", [](auto& c) { c.breaker.failure_threshold = 3; }},
      {"[breaker]", [](auto& c) { c.breaker.cooldown = 3s; }},
      {"[breaker]", [](auto& c) { c.breaker.max_cooldown = 3h; }},
      {"worker.queues", [](auto& c) { c.worker.queues = {"other"}; }},
      {"worker.poll_interval", [](auto& c) { c.worker.poll_interval = 3s; }},
      {"worker.shutdown_grace", [](auto& c) { c.worker.shutdown_grace = 3s; }},
      {"worker.metrics_interval", [](auto& c) { c.worker.metrics_interval = 3s; }},
      {"[search]", [](auto& c) { c.search.providers = {"brave"}; }},
      {"[search]", [](auto& c) { c.search.cache_ttl = 3s; }},
      {"[search]", [](auto& c) { c.search.max_wait = 3s; }},
      {"[search]", [](auto& c) { c.search.provider["google"].endpoint = "https://example.org"; }},
      {"[search]", [](auto& c) { c.search.provider["google"].daily_quota = 1; }},
      {"[search]", [](auto& c) { c.search.provider["google"].burst = 1; }},
      {"[search]", [](auto& c) { c.search.provider["google"].timeout = 1s; }},
      {"[search]", [](auto& c) { c.search.provider["google"].connect_timeout = 1s; }},
      {"[search]", [](auto& c) { c.search.provider["other"].burst = 1; }},
      {"[metrics]", [](auto& c) { c.metrics.textfile_dir = "/metrics"; }},
  };
  auto running = with_handlers({{"a", "/bin/a"}});
  for (const auto& [name, edit] : edits) {
    auto next = with_handlers({{"a", "/bin/a2"}});
    edit(next);
    auto plan = worker::plan_reload(running, next);
    BOOST_TEST(plan.needs_restart == Names{name}, name);
    BOOST_TEST(plan.changed == Names{"a"}, name);
  }
}

// The warning names every setting that waits, in the plan's order.
BOOST_AUTO_TEST_CASE(what_waits_for_a_restart_is_named_in_one_list) {
  config::Config running;
  auto next = running;
  next.worker.queues = {"other"};
  next.db.busy_timeout = std::chrono::seconds(9);
  auto plan = worker::plan_reload(running, next);
  BOOST_TEST(worker::describe_restart_changes(plan) == "[db], worker.queues");
  BOOST_TEST(worker::describe_restart_changes(worker::plan_reload(running, running)) == "");
}

// Sections of the other tools are read by those tools on each run: not the worker's business.
BOOST_AUTO_TEST_CASE(other_tools_sections_are_not_named) {
  config::Config running;
  auto next = running;
  next.backup.keep_last = 1;
  next.integrity.vacuum_threshold_percent = 1;
  next.cleanup.threshold_percent = 1;
  next.scale.max_workers = 1;
  next.api.max_connections = 1;
  auto plan = worker::plan_reload(running, next);
  BOOST_TEST(plan.needs_restart.empty());
  BOOST_TEST(!plan.changes_handlers());
}

// Whether the built-in `search` type runs is decided at start (run.cpp): its handler appearing or going waits.
BOOST_AUTO_TEST_CASE(a_search_handler_appearing_or_going_waits_for_a_restart) {
  auto without = with_handlers({{"a", "/bin/a"}});
  auto with = with_handlers({{"a", "/bin/a"}, {"search", "/bin/search"}});
  auto appears = worker::plan_reload(without, with);
  BOOST_TEST(appears.needs_restart == Names{"[handlers.search]"});
  BOOST_TEST(!appears.handlers.contains("search"));
  BOOST_TEST(!appears.changes_handlers());
  auto goes = worker::plan_reload(with, without);
  BOOST_TEST(goes.needs_restart == Names{"[handlers.search]"});
  BOOST_TEST(goes.handlers.at("search").command == Names{"/bin/search"});
  BOOST_TEST(!goes.changes_handlers());
  auto edited = with;
  edited.handlers["search"].command = {"/bin/search2"};
  auto changes = worker::plan_reload(with, edited);
  BOOST_TEST(changes.changed == Names{"search"});
  BOOST_TEST(changes.needs_restart.empty());
}

BOOST_AUTO_TEST_SUITE_END()
