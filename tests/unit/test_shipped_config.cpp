#include <boost/test/unit_test.hpp>

#include "config.hpp"
#include "util/files.hpp"

using namespace oos;

BOOST_AUTO_TEST_SUITE(shipped_config)

// config/oos.toml documents every key with its default: it must parse, and give the built-in defaults.
BOOST_AUTO_TEST_CASE(the_documented_config_parses_to_the_built_in_defaults) {
  auto path = std::filesystem::path(OOS_SOURCE_DIR) / "config" / "oos.toml";
  auto text = util::read_file(path);
  BOOST_REQUIRE(text.has_value());
  auto parsed = config::parse_config(*text, path);
  config::Config defaults;
  BOOST_TEST(parsed.queue.max_attempts == defaults.queue.max_attempts);
  BOOST_TEST(parsed.queue.backoff_seconds == defaults.queue.backoff_seconds);
  BOOST_TEST(parsed.queue.backoff_jitter == defaults.queue.backoff_jitter);
  BOOST_TEST(parsed.queue.lease.count() == defaults.queue.lease.count());
  BOOST_TEST(parsed.queue.depth_alert == defaults.queue.depth_alert);
  BOOST_TEST(parsed.queue.dead_retention.count() == defaults.queue.dead_retention.count());
  BOOST_TEST(parsed.breaker.failure_threshold == defaults.breaker.failure_threshold);
  BOOST_TEST(parsed.breaker.cooldown.count() == defaults.breaker.cooldown.count());
  BOOST_TEST(parsed.breaker.max_cooldown.count() == defaults.breaker.max_cooldown.count());
  BOOST_TEST(parsed.db.busy_timeout.count() == defaults.db.busy_timeout.count());
  BOOST_TEST(parsed.log.max_size == defaults.log.max_size);
  BOOST_TEST(parsed.worker.queues == defaults.worker.queues);
  BOOST_TEST(parsed.backup.keep_last == defaults.backup.keep_last);
  BOOST_TEST(parsed.scale.load_threshold == defaults.scale.load_threshold);
  BOOST_TEST(parsed.scale.memory_available_min_percent == defaults.scale.memory_available_min_percent);
  BOOST_TEST(parsed.scale.memory_pressure_psi_some_avg10 == defaults.scale.memory_pressure_psi_some_avg10);
  BOOST_TEST(parsed.search.provider.at("google").daily_quota == defaults.search.provider.at("google").daily_quota);
  BOOST_TEST(parsed.search.provider.at("brave").endpoint == defaults.search.provider.at("brave").endpoint);
  BOOST_TEST(parsed.api.max_body == defaults.api.max_body);
  BOOST_TEST(parsed.api.max_connections == defaults.api.max_connections);
  BOOST_TEST(parsed.api.connection_timeout.count() == defaults.api.connection_timeout.count());
  BOOST_TEST(parsed.handlers.empty());
  BOOST_TEST(parsed.queues.empty());
}

BOOST_AUTO_TEST_SUITE_END()
