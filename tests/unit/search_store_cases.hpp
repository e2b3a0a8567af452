// The cases of the search store contract (search_store_contract.hpp): included once by each backend's suite, inside
// its BOOST_AUTO_TEST_SUITE, after it defines SearchFixture (a SearchStoreFixture on a fresh database of its
// backend). No #pragma once: each suite file includes it once, inside its own suite.

// --- The quota ledger

BOOST_FIXTURE_TEST_CASE(a_quota_of_three_allows_three_requests_a_day_then_none_until_the_day_resets, SearchFixture) {
  const policy::QuotaSettings settings{3, 3};
  BOOST_TEST(!ledger.load("brave").has_value());
  for (int i = 0; i < 3; ++i) BOOST_TEST((acquire("brave", settings) == policy::QuotaVerdict::allowed));
  BOOST_TEST((acquire("brave", settings) == policy::QuotaVerdict::spent));
  BOOST_TEST(ledger.load("brave")->used == 3);  // a refused request is not counted
  auto use = ledger.today("brave", 3, clock.now());
  BOOST_TEST(use.asked);
  BOOST_TEST(use.used == 3);
  BOOST_TEST(use.spent);
  BOOST_TEST(use.resets_at == k_search_noon + 12 * 3'600'000);  // midnight UTC

  clock.advance(12 * 3'600'000);
  BOOST_TEST(ledger.today("brave", 3, clock.now()).used == 0);
  BOOST_TEST((acquire("brave", settings) == policy::QuotaVerdict::allowed));
  BOOST_TEST(ledger.load("brave")->used == 1);
  BOOST_TEST(ledger.load("brave")->day == "2026-12-07");
}

BOOST_FIXTURE_TEST_CASE(a_provider_never_asked_has_no_ledger, SearchFixture) {
  auto use = ledger.today("google", 100, clock.now());
  BOOST_TEST(!use.asked);
  BOOST_TEST(use.used == 0);
  BOOST_TEST(!use.spent);
}

BOOST_FIXTURE_TEST_CASE(the_ledger_keeps_the_pacing_bucket_to_the_last_bit, SearchFixture) {
  const policy::QuotaSettings settings{8640, 2};  // a token every 10 s
  BOOST_TEST((acquire("brave", settings) == policy::QuotaVerdict::allowed));
  clock.advance(2'500);
  auto second = ledger.acquire("brave", settings, policy::QuotaZone::utc, clock);
  BOOST_TEST((second.verdict == policy::QuotaVerdict::allowed));
  auto stored = ledger.load("brave");
  BOOST_TEST(stored->tokens == second.ledger.tokens);  // about 0.25, read back exactly
  BOOST_TEST(stored->tokens_at == clock.now());
  auto third = ledger.acquire("brave", settings, policy::QuotaZone::utc, clock);
  BOOST_TEST((third.verdict == policy::QuotaVerdict::paced));
  BOOST_TEST((third.wait.count() >= 7'500 && third.wait.count() <= 7'501), third.wait.count());
}

BOOST_FIXTURE_TEST_CASE(a_day_marked_spent_holds_for_every_connection_until_it_resets, SearchFixture) {
  const policy::QuotaSettings unlimited{0, 10};
  BOOST_TEST((acquire("searxng", unlimited) == policy::QuotaVerdict::allowed));
  ledger.mark_exhausted("searxng", unlimited, policy::QuotaZone::utc, clock);
  auto other = under_test->connect();
  BOOST_TEST((other->search().ledger().acquire("searxng", unlimited, policy::QuotaZone::utc, clock).verdict ==
              policy::QuotaVerdict::spent));
  BOOST_TEST(other->search().ledger().today("searxng", 0, clock.now()).spent);
  clock.advance(12 * 3'600'000);
  BOOST_TEST((acquire("searxng", unlimited) == policy::QuotaVerdict::allowed));
  BOOST_TEST(!ledger.load("searxng")->exhausted);
  // A provider first heard of through its refusal gets a ledger spent today.
  ledger.mark_exhausted("brave", unlimited, policy::QuotaZone::utc, clock);
  BOOST_TEST(ledger.load("brave")->exhausted);
  BOOST_TEST(ledger.load("brave")->used == 0);
}

// A request that waits for another writer of the ledger is counted at the time it gets it: the pacing bucket is
// refilled up to then, and stamped then (a stale time would let the next process refill the same seconds again).
BOOST_FIXTURE_TEST_CASE(a_request_is_counted_at_the_time_the_ledger_is_held, SearchFixture) {
  SharedClock shared;
  const policy::QuotaSettings settings{8640, 1};  // one request every 10 s
  BOOST_TEST(
      (ledger.acquire("google", settings, policy::QuotaZone::utc, shared).verdict == policy::QuotaVerdict::allowed));
  policy::QuotaDecision decision;
  under_test->write_after_waiting_for_the_ledger(
      shared, 10'000, "google", [&] { decision = ledger.acquire("google", settings, policy::QuotaZone::utc, shared); });
  BOOST_TEST((decision.verdict == policy::QuotaVerdict::allowed));  // the 10 s waited refilled one token
  BOOST_TEST(decision.ledger.tokens_at == shared.now());
  BOOST_TEST(ledger.load("google")->used == 2);
}

// Processes (or hosts) asking at once, from the provider's first request on: the quota is spent exactly.
BOOST_FIXTURE_TEST_CASE(four_connections_racing_for_a_quota_of_25_take_25_requests_between_them, SearchFixture) {
  const policy::QuotaSettings settings{25, 25};
  std::atomic<int> allowed{0};
  std::atomic<int> refused{0};
  auto race = [&] {
    auto own = under_test->connect();
    for (int i = 0; i < 30; ++i) {
      auto verdict = own->search().ledger().acquire("brave", settings, policy::QuotaZone::utc, clock).verdict;
      (verdict == policy::QuotaVerdict::allowed ? allowed : refused)++;
    }
  };
  std::vector<std::thread> connections;
  for (int i = 0; i < 4; ++i) connections.emplace_back(race);
  for (auto& c : connections) c.join();
  BOOST_TEST(allowed.load() == 25);
  BOOST_TEST(refused.load() == 95);
  BOOST_TEST(ledger.load("brave")->used == 25);
}

// --- The cache

namespace {

search::Page one_result(const std::string& title) {
  search::Page page;
  page.results.push_back({title, "https://example.org/" + title, "a snippet with \"quotes\" and żółw"});
  page.total_results = 1234;
  page.next_start = 4;
  return page;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_cached_page_is_found_by_its_normalised_query_num_and_start, SearchFixture) {
  const search::Query query{"  SQLite   WAL\tmode ", 3, 1};
  cache.store(query, "google", one_result("wal"), clock.now(), util::Millis(3'600'000));
  auto found = cache.find({"sqlite wal mode", 3, 1});
  BOOST_TEST_REQUIRE(found.has_value());
  BOOST_TEST(found->provider == "google");
  BOOST_TEST(found->fetched_at == clock.now());
  BOOST_TEST(found->expires_at == clock.now() + 3'600'000);
  BOOST_TEST_REQUIRE(found->page.results.size() == 1u);
  BOOST_TEST(found->page.results[0].snippet == "a snippet with \"quotes\" and żółw");
  BOOST_TEST(*found->page.total_results == 1234);
  BOOST_TEST(*found->page.next_start == 4);
  BOOST_TEST(!cache.find({"sqlite wal mode", 3, 4}).has_value());
  BOOST_TEST(!cache.find({"sqlite wal mode", 10, 1}).has_value());
  BOOST_TEST(under_test->connect()->search().cache().find(query).has_value());  // shared by every connection
}

BOOST_FIXTURE_TEST_CASE(a_store_replaces_the_entry_and_deletes_entries_past_their_stale_keep, SearchFixture) {
  const util::Millis ttl{3'600'000};
  cache.store({"old", 3, 1}, "google", one_result("old"), clock.now(), ttl);
  cache.store({"q", 3, 1}, "google", one_result("first"), clock.now(), ttl);
  clock.advance(ttl.count() + search::k_stale_keep.count() - 1);
  cache.store({"q", 3, 1}, "searxng", one_result("second"), clock.now(), ttl);
  BOOST_TEST(cache.find({"old", 3, 1}).has_value());  // fetched exactly ttl + k_stale_keep - 1 ago: kept
  clock.advance(2);
  cache.store({"other", 3, 1}, "brave", one_result("third"), clock.now(), ttl);
  BOOST_TEST(!cache.find({"old", 3, 1}).has_value());
  auto replaced = cache.find({"q", 3, 1});
  BOOST_TEST_REQUIRE(replaced.has_value());
  BOOST_TEST(replaced->provider == "searxng");
  BOOST_TEST(replaced->page.results.at(0).title == "second");
}

// --- The breaker transaction

BOOST_FIXTURE_TEST_CASE(a_breaker_changed_in_its_transaction_is_shared_and_a_throw_rolls_it_back, SearchFixture) {
  auto& breakers = store.breakers();
  for (int i = 0; i < config.breaker.failure_threshold; ++i)
    store.change_breaker("google", [&] { breakers.record_failure(search::k_breaker_kind, "google", clock.now()); });
  auto other = under_test->connect();
  BOOST_TEST((other->search().breakers().load(search::k_breaker_kind, "google").state == policy::BreakerState::open));
  BOOST_CHECK_THROW(store.change_breaker("google",
                                         [&] {
                                           auto before = breakers.load(search::k_breaker_kind, "google");
                                           breakers.save(search::k_breaker_kind, "google", before,
                                                         policy::closed_breaker(config.breaker), clock.now());
                                           throw std::runtime_error("gone");
                                         }),
                    std::runtime_error);
  BOOST_TEST((breakers.load(search::k_breaker_kind, "google").state == policy::BreakerState::open));
}
