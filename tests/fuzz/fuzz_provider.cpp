// The providers' response parsers and error classifiers. Input: a first line "PROVIDER STATUS [RETRY-AFTER]"
// (provider google, searxng or brave), then the body; parse_retry_after gets the Retry-After value too.
#include <charconv>
#include <string>

#include "config.hpp"
#include "fuzz/fuzz.hpp"
#include "search/provider.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = oos::fuzz::text_of(data, size);
  auto newline = text.find('\n');
  if (newline == std::string_view::npos) return 0;
  auto head = text.substr(0, newline);
  auto body = text.substr(newline + 1);
  auto space = head.find(' ');
  if (space == std::string_view::npos) return 0;
  std::string name(head.substr(0, space));
  if (name != "google" && name != "searxng" && name != "brave") return 0;
  auto rest = head.substr(space + 1);
  long status = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), status);
  if (ec != std::errc()) return 0;
  std::optional<std::string> retry_after;
  if (end != rest.data() + rest.size() && *end == ' ') retry_after = std::string(end + 1, rest.data() + rest.size());
  if (retry_after) (void)oos::search::parse_retry_after(*retry_after, 1'700'000'000'000);
  oos::config::SearchProvider settings;
  settings.endpoint = "http://fuzz.invalid/";
  auto provider = oos::search::make_provider(name, settings);
  oos::search::HttpResponse response{status, std::string(body), retry_after, 1'700'000'000'000};
  (void)provider->read({"q", 10, 1}, response);
  (void)provider->read({"q", 3, 45}, response);
  return 0;
}
