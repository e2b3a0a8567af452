#include "cli.hpp"

#include <iostream>

#include "app/cli.hpp"

namespace oos::tools::search {

std::optional<int> parse(int argc, char** argv, Command& c) {
  CLI::App app{
      "Web search through the providers of search.providers, with a shared daily quota, pacing, breakers, "
      "retries and a cache. 'oos-search quota' shows each provider's quota and breaker.",
      "oos-search"};
  app::add_common_options(app, c.common);
  app.add_flag("--json", c.json, "Print JSON");
  app.add_option("query", c.words, "The query (words are joined with spaces)")->type_name("QUERY...");
  app.add_option("--num", c.num, "Results wanted, 1-10")->check(CLI::Range(1, 10))->type_name("N");
  app.add_option("--start", c.start, "Index of the first result, 1-91")->check(CLI::Range(1, 91))->type_name("K");
  app.add_flag("--no-cache", c.no_cache, "Ask the providers even when the cache holds the answer");
  app.add_option("--max-wait", c.max_wait, "The most to wait in all for pacing, Retry-After and retries")
      ->type_name("DUR");
  app.add_option("--reset-breaker", c.reset_breaker, "With 'quota': close this provider's breaker by hand")
      ->type_name("PROVIDER");
  app.footer(
      "'oos-search quota' (the single word) shows each provider's quota used and left today, its reset time and "
      "its breaker; a query that is just that word must be written with more, e.g. 'quota limits'.");
  if (auto done = app::parse_command_line(app, argc, argv)) return done;
  // `quota` is a verb only alone: "how to raise quota" is a query.
  if (c.words.size() == 1 && c.words[0] == "quota") {
    c.verb = Verb::quota;
    c.words.clear();
  }
  if (c.reset_breaker && c.verb != Verb::quota) {
    std::cerr << "oos-search: error: --reset-breaker goes with 'quota': oos-search quota --reset-breaker NAME\n";
    return 64;
  }
  if (c.verb == Verb::search && c.words.empty()) {
    std::cerr << "oos-search: error: no query: give one or more words, e.g. oos-search sqlite wal mode\n";
    return 64;
  }
  return std::nullopt;
}

db::Access access(const Command& c) {
  return c.verb == Verb::quota && !c.reset_breaker ? db::Access::read_only : db::Access::read_write;
}

}  // namespace oos::tools::search
