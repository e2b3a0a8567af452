#include "worker/key_feedback.hpp"

#include "search/provider.hpp"

namespace oos::worker {
namespace {

constexpr std::string_view k_retry_after = "retry-after=";

std::string_view last_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  auto newline = text.rfind('\n');
  return newline == std::string_view::npos ? text : text.substr(newline + 1);
}

std::string_view without_blanks(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<KeyExhausted> parse_key_exhausted(std::string_view err_tail, util::UnixMillis now) {
  auto line = without_blanks(last_line(err_tail));
  if (!line.starts_with(k_key_exhausted)) return std::nullopt;
  auto rest = line.substr(k_key_exhausted.size());
  if (!rest.empty() && rest.front() != ' ' && rest.front() != '\t') return std::nullopt;  // oos:key-exhaustedX
  rest = without_blanks(rest);
  KeyExhausted report;
  if (rest.starts_with(k_retry_after))
    report.retry_after = search::parse_retry_after(without_blanks(rest.substr(k_retry_after.size())), now);
  return report;
}

}  // namespace oos::worker
