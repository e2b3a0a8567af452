#include <boost/test/unit_test.hpp>

#include "api/etag.hpp"
#include "util/sha256.hpp"

using oos::api::entity_tag;
using oos::api::none_match_hits;

BOOST_AUTO_TEST_SUITE(api_etag)

BOOST_AUTO_TEST_CASE(the_tag_is_the_quoted_first_half_of_the_bodys_sha256) {
  // The SHA-256 reference values of "" and "abc" (FIPS 180-2), their first 32 hex digits.
  BOOST_TEST(entity_tag("") == "\"e3b0c44298fc1c149afbf4c8996fb924\"");
  BOOST_TEST(entity_tag("abc") == "\"ba7816bf8f01cfea414140de5dae2223\"");
  BOOST_TEST(oos::util::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  BOOST_TEST(entity_tag("{\"queues\":[]}\n") == entity_tag("{\"queues\":[]}\n"));
  BOOST_TEST(entity_tag("{\"queues\":[]}\n") != entity_tag("{\"queues\":[ ]}\n"));
}

BOOST_AUTO_TEST_CASE(if_none_match_hits_the_tag_a_list_holding_it_or_a_star) {
  const std::string tag = "\"0123456789abcdef\"";
  BOOST_TEST(none_match_hits(tag, tag));
  BOOST_TEST(none_match_hits("*", tag));
  BOOST_TEST(none_match_hits(" * ", tag));
  BOOST_TEST(none_match_hits("\"aaaa\", " + tag, tag));
  BOOST_TEST(none_match_hits("\"aaaa\",\t" + tag + " ,\"bbbb\"", tag));
  BOOST_TEST(none_match_hits("W/" + tag, tag));  // If-None-Match compares weakly
}

BOOST_AUTO_TEST_CASE(if_none_match_misses_other_tags) {
  const std::string tag = "\"0123456789abcdef\"";
  BOOST_TEST(!none_match_hits("", tag));
  BOOST_TEST(!none_match_hits("\"0123456789abcdee\"", tag));
  BOOST_TEST(!none_match_hits("0123456789abcdef", tag));  // unquoted: not the tag
  BOOST_TEST(!none_match_hits("\"aaaa\", \"bbbb\"", tag));
  BOOST_TEST(!none_match_hits(",,", tag));
  BOOST_TEST(!none_match_hits("**", tag));
}

BOOST_AUTO_TEST_SUITE_END()
