// Titles and snippets as plain text: what providers send may carry HTML (Brave's <strong> highlights, Google's
// and SearXNG's entities, newlines inside plain fields), and what oos-search prints and stores must not.
#pragma once

#include <string>
#include <string_view>

namespace oos::search {

// `html` as one line of plain text:
// - tags are removed: an HTML element's start or end tag (a name of the table in plain_text.cpp, followed by
//   whitespace, `/` or `>`; a one-letter name in lower case only) up to the next `>`, a comment up to `-->`,
//   `<!...>` and `<?...>`. A line-breaking tag (br, p, div, li, tr, td, th, h1-h6) becomes a space, an inline
//   one (b, strong, em) nothing, so that "<b>New</b>York" stays one word. Any other `<` is text: "a < b",
//   "vector<int>", "std::vector<T,Allocator>", "List<A>".
// - entities are decoded: the named ones of the table in plain_text.cpp (amp, lt, gt, quot, apos, nbsp and
//   common punctuation), decimal `&#39;` and hex `&#x27;` (code points 128-159 as Windows-1252, as browsers
//   do; 0, surrogates and values past U+10FFFF as U+FFFD). An unknown or unterminated entity stays as it is.
//   Decoding comes after tag removal, so an escaped `&lt;b&gt;` survives as the text "<b>".
// - whitespace, no-break spaces and control characters become single spaces; the ends are trimmed; soft
//   hyphens are dropped.
// Not idempotent for text that decodes to something tag-like: apply it once, to what a provider sent.
std::string plain_text(std::string_view html);

}  // namespace oos::search
