// search/plain_text: tags removed, entities decoded, whitespace collapsed.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "search/plain_text.hpp"

BOOST_AUTO_TEST_SUITE(plain_text)

struct Case {
  std::string html;
  std::string text;
};

BOOST_AUTO_TEST_CASE(html_becomes_one_line_of_plain_text) {
  const std::vector<Case> cases{
      {"plain", "plain"},
      {"", ""},
      // tags: inline ones vanish, line-breaking ones read as a space
      {"The <strong>New</strong> <strong>York</strong> Times", "The New York Times"},
      {"<b>New</b>York", "NewYork"},
      {"one<br>two<BR/>three<p>four</p>five", "one two three four five"},
      {"a <span class=\"x\" data-y='1'>b</span> c", "a b c"},
      {"before<!-- a > comment -->after", "beforeafter"},
      {"a < b and c > d", "a < b and c > d"},      // not tags
      {"x <b unterminated", "x <b unterminated"},  // no end: text
      {"1<2", "1<2"},
      // Angle brackets of code in plain titles are text, not tags.
      {"std::vector<T,Allocator>::push_back - cppreference.com",
       "std::vector<T,Allocator>::push_back - cppreference.com"},
      {"Map<String, Integer> and vector<int>", "Map<String, Integer> and vector<int>"},
      {"List<A> vs <a href=\"/x\">link</a>", "List<A> vs link"},
      {"<T> and <b>bold</b>", "<T> and bold"},
      // entities: named, decimal, hex
      {"Q&amp;A &lt;tag&gt; &quot;quoted&quot; it&apos;s", "Q&A <tag> \"quoted\" it's"},
      {"isn&#39;t &#x27;x&#X27; &#8212; &#x2014;", "isn't 'x' \u2014 \u2014"},
      {"wait&hellip; &ldquo;so&rdquo; &mdash; 5&nbsp;km", "wait\u2026 \u201cso\u201d \u2014 5 km"},
      {"&#150; &#146;", "\u2013 \u2019"},  // 128-159: Windows-1252, as browsers read them
      {"&#0; &#xD800; &#1114112;", "\uFFFD \uFFFD \uFFFD"},
      {"AT&T &unknown; &amp &#; &#x; &#12a;", "AT&T &unknown; &amp &#; &#x; &#12a;"},  // left as they are
      {"&lt;b&gt;escaped&lt;/b&gt;", "<b>escaped</b>"},  // decoded after the tags are gone: text
      {"&amp;lt;", "&lt;"},                              // decoded once
      // whitespace and control characters
      {"  lines\nand \r\n\ttabs  ", "lines and tabs"},
      {"a \n b", "a b"},
      {"no\u00a0break", "no break"},
      {"soft\u00adhyphen", "softhyphen"},
      {"bell\x07"
       "and\x1b[31mescape",
       "bell and [31mescape"},
      {"&#27;[2J", "[2J"},
      {"caf\u00e9 \u65e5\u672c", "caf\u00e9 \u65e5\u672c"},  // other UTF-8 untouched
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("html '" << c.html << "'") {
      BOOST_TEST(oos::search::plain_text(c.html) == c.text);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
