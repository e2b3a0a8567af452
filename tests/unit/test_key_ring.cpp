#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "keys/key_ring.hpp"
#include "keys/ring_status.hpp"
#include "worker/key_feedback.hpp"

using namespace oos;
using keys::KeyState;

namespace {

constexpr util::UnixMillis k_now = 1'700'000'000'000;

KeyState key(std::string fingerprint, std::optional<util::UnixMillis> last_used, util::UnixMillis cooldown_until = 0) {
  return KeyState{std::move(fingerprint), last_used, cooldown_until, 0, 0};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(key_ring)

BOOST_AUTO_TEST_CASE(a_ring_secret_is_trimmed_split_on_commas_and_deduplicated) {
  auto ring = keys::parse_ring(" sk-one ,sk-two,, \t,sk-one,sk-three\n");
  BOOST_TEST(ring.keys == (std::vector<std::string>{"sk-one", "sk-two", "sk-three"}), boost::test_tools::per_element());
  BOOST_TEST(ring.duplicates == 1);
  BOOST_TEST(keys::parse_ring("").keys.empty());
  BOOST_TEST(keys::parse_ring(" , ,").keys.empty());
  BOOST_TEST(keys::parse_ring("solo").keys == std::vector<std::string>{"solo"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_run_gets_its_key_in_the_ring_name_without_the_s) {
  BOOST_TEST(keys::key_variable("OPENROUTER_KEYS") == "OPENROUTER_KEY");
  BOOST_TEST(keys::key_variable("BRAVE_SEARCH_API_KEYS") == "BRAVE_SEARCH_API_KEY");
}

BOOST_AUTO_TEST_CASE(a_fingerprint_is_a_keyed_hash_that_never_shows_the_key) {
  auto a = keys::fingerprint("installation-1", "sk-or-v1-secret-key");
  BOOST_TEST(a.size() == 16U);
  BOOST_TEST(a == keys::fingerprint("installation-1", "sk-or-v1-secret-key"));  // stable
  BOOST_TEST(a != keys::fingerprint("installation-2", "sk-or-v1-secret-key"));  // keyed
  BOOST_TEST(a != keys::fingerprint("installation-1", "sk-or-v1-secret-kez"));
  // RFC 4231 test case 2: HMAC-SHA-256("Jefe", "what do ya want for nothing?") = 5bdcc146bf60754e...
  BOOST_TEST(keys::fingerprint("Jefe", "what do ya want for nothing?") == "5bdcc146bf60754e");
}

BOOST_AUTO_TEST_CASE(the_least_recently_used_key_not_cooling_down_is_chosen) {
  // Never used first, in the secret's order.
  auto c = keys::choose_key({key("a", 5), key("b", std::nullopt), key("c", std::nullopt)}, k_now);
  BOOST_TEST(c.index.value() == 1U);
  BOOST_TEST(!c.wait_until);
  // The oldest use otherwise.
  c = keys::choose_key({key("a", 5), key("b", 3), key("c", 9)}, k_now);
  BOOST_TEST(c.index.value() == 1U);
  // A key cooling down is skipped however old its use; one whose cooldown has ended is back.
  c = keys::choose_key({key("a", 5), key("b", 3, k_now + 1), key("c", 9, k_now)}, k_now);
  BOOST_TEST(c.index.value() == 0U);
}

BOOST_AUTO_TEST_CASE(with_every_key_cooling_down_the_first_back_is_awaited) {
  auto c = keys::choose_key({key("a", 5, k_now + 3000), key("b", 3, k_now + 1000), key("c", 9, k_now + 2000)}, k_now);
  BOOST_TEST(!c.index);
  BOOST_TEST(c.wait_until.value() == k_now + 1000);
  c = keys::choose_key({}, k_now);
  BOOST_TEST(!c.index);
  BOOST_TEST(!c.wait_until);
}

BOOST_AUTO_TEST_CASE(a_ring_sync_drops_keys_gone_from_the_secret_and_adds_new_ones_in_its_order) {
  auto sync = keys::sync_ring({key("aa", k_now - 5), key("bb", std::nullopt, k_now + 9), key("cc", k_now)},
                              {"dd", "cc", "bb", "ee"});
  BOOST_TEST(sync.removed == std::vector<std::string>{"aa"}, boost::test_tools::per_element());
  BOOST_TEST(sync.added == (std::vector<std::string>{"dd", "ee"}), boost::test_tools::per_element());
  BOOST_REQUIRE(sync.states.size() == 4U);
  BOOST_TEST(sync.states[0].fingerprint == "dd");
  BOOST_TEST(!sync.states[0].last_used_at);
  BOOST_TEST(sync.states[1].fingerprint == "cc");
  BOOST_TEST(sync.states[1].last_used_at.value_or(0) == k_now);  // a stored key keeps its state
  BOOST_TEST(sync.states[2].fingerprint == "bb");
  BOOST_TEST(sync.states[2].cooldown_until == k_now + 9);
  BOOST_TEST(sync.states[3].fingerprint == "ee");
  auto same = keys::sync_ring({key("aa", k_now)}, {"aa"});
  BOOST_TEST(same.removed.empty());
  BOOST_TEST(same.added.empty());
}

BOOST_AUTO_TEST_CASE(the_utc_day_counts_days_since_the_epoch) {
  BOOST_TEST(keys::utc_day(0) == 0);
  BOOST_TEST(keys::utc_day(86'399'999) == 0);
  BOOST_TEST(keys::utc_day(86'400'000) == 1);
  BOOST_TEST(keys::utc_day(-1) == -1);
}

BOOST_AUTO_TEST_CASE(the_rings_shown_are_those_the_handlers_name_with_their_handlers) {
  config::Config config;
  config.handlers["summarise"].key_rings = {"OPENROUTER_KEYS"};
  config.handlers["llm"].key_rings = {"OPENROUTER_KEYS", "BRAVE_KEYS"};
  config.handlers["mail"];
  auto rings = keys::handlers_by_ring(config);
  BOOST_REQUIRE(rings.size() == 2U);
  BOOST_TEST(rings["OPENROUTER_KEYS"] == (std::vector<std::string>{"llm", "summarise"}),
             boost::test_tools::per_element());
  BOOST_TEST(rings["BRAVE_KEYS"] == std::vector<std::string>{"llm"}, boost::test_tools::per_element());
  BOOST_TEST(keys::handlers_by_ring(config::Config{}).empty());
}

BOOST_AUTO_TEST_CASE(uses_today_count_only_on_the_day_they_were_counted) {
  KeyState k{"fa", k_now, 0, 7, keys::utc_day(k_now)};
  BOOST_TEST(keys::uses_today(k, k_now) == 7);
  BOOST_TEST(keys::uses_today(k, k_now + 86'400'000) == 0);  // the next day, before its first pick
}

BOOST_AUTO_TEST_CASE(a_ring_waits_only_when_every_stored_key_cools_down) {
  BOOST_TEST(keys::every_key_cooling_until({key("a", 5, k_now + 3000), key("b", 3, k_now + 1000)}, k_now).value() ==
             k_now + 1000);
  BOOST_TEST(!keys::every_key_cooling_until({key("a", 5, k_now + 3000), key("b", 3, k_now)}, k_now));
  BOOST_TEST(!keys::every_key_cooling_until({}, k_now));  // nothing handed out yet
}

BOOST_AUTO_TEST_CASE(the_key_exhausted_line_is_read_from_the_last_stderr_line_only) {
  using worker::parse_key_exhausted;
  BOOST_TEST(parse_key_exhausted("calling the API\noos:key-exhausted\n", k_now).has_value());
  BOOST_TEST(!parse_key_exhausted("calling the API\noos:key-exhausted\n", k_now)->retry_after);
  BOOST_TEST(parse_key_exhausted("oos:key-exhausted\r\n\n", k_now).has_value());
  // Not the last line, another word, or nothing: no report.
  BOOST_TEST(!parse_key_exhausted("oos:key-exhausted\nthen something else\n", k_now));
  BOOST_TEST(!parse_key_exhausted("oos:key-exhaustedness\n", k_now));
  BOOST_TEST(!parse_key_exhausted("", k_now));
  BOOST_TEST(!parse_key_exhausted("error: oos:key-exhausted\n", k_now));
}

BOOST_AUTO_TEST_CASE(retry_after_gives_seconds_or_an_http_date) {
  using worker::parse_key_exhausted;
  auto r = parse_key_exhausted("429\noos:key-exhausted retry-after=120\n", k_now);
  BOOST_TEST(r->retry_after.value().count() == 120'000);
  // 2023-11-14T22:13:20Z is k_now; the date is 90 s later.
  r = parse_key_exhausted("oos:key-exhausted retry-after=Tue, 14 Nov 2023 22:14:50 GMT", k_now);
  BOOST_TEST(r->retry_after.value().count() == 90'000);
  // An unreadable value leaves the handler's key_cooldown to apply.
  r = parse_key_exhausted("oos:key-exhausted retry-after=soon\n", k_now);
  BOOST_TEST(r.has_value());
  BOOST_TEST(!r->retry_after);
}

BOOST_AUTO_TEST_SUITE_END()
