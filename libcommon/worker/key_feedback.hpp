// What a handler tells the worker about the key it was given (docs/reference.md section 6, key rings): the
// `oos:key-exhausted` line, as a pure parser.
#pragma once

#include <optional>
#include <string_view>

#include "util/duration.hpp"
#include "util/time.hpp"

namespace oos::worker {

// The line a handler prints last on stderr when the API refused its key for a while.
inline constexpr std::string_view k_key_exhausted = "oos:key-exhausted";

// A handler's report that its key is spent.
struct KeyExhausted {
  std::optional<util::Millis> retry_after;  // from retry-after=; none: the handler's key_cooldown
};

// Reads the last line of `err_tail` (trailing line ends ignored): "oos:key-exhausted", optionally followed by
// "retry-after=SECONDS" or "retry-after=HTTP-DATE" (RFC 9110, relative to `now`; both clamped to a day). Another
// last line gives nullopt; a retry-after value that cannot be read is ignored (the default cooldown applies).
std::optional<KeyExhausted> parse_key_exhausted(std::string_view err_tail, util::UnixMillis now);

}  // namespace oos::worker
