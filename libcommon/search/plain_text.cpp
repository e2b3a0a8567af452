#include "search/plain_text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>
#include <utility>

namespace oos::search {
namespace {

// Named entities decoded; what search providers send besides the five of XML is typographic punctuation.
constexpr std::array<std::pair<std::string_view, char32_t>, 33> k_named{{
    {"amp", U'&'},     {"lt", U'<'},       {"gt", U'>'},      {"quot", U'"'},    {"apos", U'\''},   {"nbsp", 0xA0},
    {"shy", 0xAD},     {"hellip", 0x2026}, {"mdash", 0x2014}, {"ndash", 0x2013}, {"lsquo", 0x2018}, {"rsquo", 0x2019},
    {"sbquo", 0x201A}, {"ldquo", 0x201C},  {"rdquo", 0x201D}, {"bdquo", 0x201E}, {"laquo", 0xAB},   {"raquo", 0xBB},
    {"middot", 0xB7},  {"bull", 0x2022},   {"copy", 0xA9},    {"reg", 0xAE},     {"trade", 0x2122}, {"deg", 0xB0},
    {"times", 0xD7},   {"divide", 0xF7},   {"euro", 0x20AC},  {"pound", 0xA3},   {"cent", 0xA2},    {"yen", 0xA5},
    {"sect", 0xA7},    {"para", 0xB6},     {"zwsp", 0x200B},
}};

// Code points 0x80-0x9F as browsers read them in a numeric reference (the HTML standard's Windows-1252 table);
// 0 where the standard keeps the control character.
constexpr std::array<char32_t, 32> k_windows_1252{
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

constexpr char32_t k_replacement = 0xFFFD;

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

bool ascii_alpha(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0;
}

// Tags that end a line or a block: read as a space, so that the words around them stay apart.
bool breaks_line(std::string_view tag) {
  std::string name;
  for (char c : tag.substr(tag.starts_with("/") ? 1 : 0)) {
    if (!std::isalnum(static_cast<unsigned char>(c))) break;
    name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  static constexpr std::array<std::string_view, 15> k_breaking{"br", "p",  "div", "li", "tr", "td", "th", "h1",
                                                               "h2", "h3", "h4",  "h5", "h6", "ul", "ol"};
  return std::find(k_breaking.begin(), k_breaking.end(), name) != k_breaking.end();
}

// HTML elements that search snippets carry (highlights, breaks, lists, simple blocks). A `<` followed by another
// name is text: "vector<int>", "Map<String, Integer>", "std::vector<T,Allocator>" stay as they are.
bool is_html_element(std::string_view name) {
  static constexpr std::array<std::string_view, 56> k_elements{
      "a",     "abbr", "b",     "bdi",   "bdo",  "big",    "blockquote", "br",   "caption", "center", "cite",  "code",
      "dd",    "del",  "dfn",   "div",   "dl",   "dt",     "em",         "font", "h1",      "h2",     "h3",    "h4",
      "h5",    "h6",   "hr",    "i",     "img",  "ins",    "kbd",        "li",   "mark",    "ol",     "p",     "pre",
      "q",     "s",    "samp",  "small", "span", "strike", "strong",     "sub",  "sup",     "table",  "tbody", "td",
      "tfoot", "th",   "thead", "time",  "tr",   "tt",     "u",          "ul"};
  return std::find(k_elements.begin(), k_elements.end(), name) != k_elements.end();
}

// Whether `in` at `at` (a '<') opens a tag: a comment, a declaration or processing instruction, or an HTML
// element's start or end tag, its name followed by whitespace, '/' or '>'. A one-letter name must be lower
// case ("<b>", "<a href=...>"), since "List<A>" or "<T>" is text.
bool opens_tag(std::string_view in, std::size_t at) {
  if (at + 1 >= in.size()) return false;
  if (in[at + 1] == '!' || in[at + 1] == '?') return true;
  std::size_t start = at + 1 + (in[at + 1] == '/' ? 1 : 0);
  std::size_t end = start;
  while (end < in.size() && std::isalnum(static_cast<unsigned char>(in[end]))) ++end;
  if (end == start || end == in.size() || !ascii_alpha(in[start])) return false;
  char after = in[end];
  if (after != '>' && after != '/' && !std::isspace(static_cast<unsigned char>(after))) return false;
  std::string name;
  for (char c : in.substr(start, end - start)) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name.size() == 1 && std::isupper(static_cast<unsigned char>(in[start]))) return false;
  return is_html_element(name);
}

std::string without_tags(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size();) {
    if (in[i] != '<' || !opens_tag(in, i)) {
      out += in[i++];
      continue;
    }
    bool comment = in.substr(i).starts_with("<!--");
    auto end = comment ? in.find("-->", i + 4) : in.find('>', i + 1);
    if (end == std::string_view::npos) {  // no end: not a tag after all
      out += in[i++];
      continue;
    }
    if (!comment && breaks_line(in.substr(i + 1, end - i - 1))) out += ' ';
    i = end + (comment ? 3 : 1);
  }
  return out;
}

// The code point of the entity that starts at `at` (a '&') and its length, or nullopt when none starts there.
std::optional<std::pair<char32_t, std::size_t>> entity_at(std::string_view s, std::size_t at) {
  auto semi = s.find(';', at + 1);
  // The longest name in the table is 6 characters, a numeric reference at most 10 ("&#x10FFFF;" without the &).
  if (semi == std::string_view::npos || semi - at > 10) return std::nullopt;
  auto body = s.substr(at + 1, semi - at - 1);
  auto length = semi - at + 1;
  if (body.starts_with("#")) {
    bool hex = body.size() > 1 && (body[1] == 'x' || body[1] == 'X');
    auto digits = body.substr(hex ? 2 : 1);
    if (digits.empty()) return std::nullopt;
    std::uint32_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, hex ? 16 : 10);
    if (end != digits.data() + digits.size()) return std::nullopt;
    if (ec != std::errc() || value == 0 || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
      return std::pair{k_replacement, length};
    if (value >= 0x80 && value <= 0x9F && k_windows_1252[value - 0x80] != 0)
      return std::pair{k_windows_1252[value - 0x80], length};
    return std::pair{static_cast<char32_t>(value), length};
  }
  for (const auto& [name, code] : k_named)
    if (body == name) return std::pair{code, length};
  return std::nullopt;
}

std::string decoded(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size();) {
    if (in[i] == '&') {
      if (auto entity = entity_at(in, i)) {
        append_utf8(out, entity->first);
        i += entity->second;
        continue;
      }
    }
    out += in[i++];
  }
  return out;
}

// Runs of whitespace, no-break spaces (U+00A0) and control characters (C0, DEL, C1) as one space, the ends
// trimmed, soft hyphens (U+00AD) dropped.
std::string collapsed(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  bool blank = false;
  for (std::size_t i = 0; i < in.size();) {
    auto c = static_cast<unsigned char>(in[i]);
    std::size_t width = 1;
    bool space = c < 0x20 || c == ' ' || c == 0x7F;
    if (c == 0xC2 && i + 1 < in.size()) {
      auto next = static_cast<unsigned char>(in[i + 1]);
      if (next == 0xAD) {  // soft hyphen
        i += 2;
        continue;
      }
      if (next == 0xA0 || (next >= 0x80 && next <= 0x9F)) {
        space = true;
        width = 2;
      }
    }
    if (space) {
      blank = true;
      i += width;
      continue;
    }
    if (blank && !out.empty()) out += ' ';
    blank = false;
    out += in[i++];
  }
  return out;
}

}  // namespace

std::string plain_text(std::string_view html) {
  return collapsed(decoded(without_tags(html)));
}

}  // namespace oos::search
