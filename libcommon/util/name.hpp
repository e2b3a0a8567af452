// The one rule for names a command line can give (queues, task types, workers; docs/reference.md section 2),
// and how a rejected name is shown in a one-line error.
#pragma once

#include <string>
#include <string_view>

namespace oos::util {

// Whether `name` is 1-64 characters of ASCII letters, digits, '_', '-', '.' and ':' (no '/', space, quote,
// shell metacharacter or control character, and never "" or longer than 64).
bool is_plain_name(std::string_view name);

// The rule is_plain_name() checks, as the end of the error that refuses a name ("invalid queue name 'a b': use ...").
inline constexpr std::string_view k_plain_name_rule = "use 1-64 letters, digits, '_', '-', '.' or ':'";

// `text` for an error message: control characters (C0, DEL and the UTF-8 C1 controls) and bytes that are not
// UTF-8 as \xNN (each byte), so that the message stays one line of text and a terminal escape is shown, never
// obeyed; at most 64 bytes of `text` (not cutting a UTF-8 character), then "…" when it was longer.
std::string cut_for_message(std::string_view text);

}  // namespace oos::util
