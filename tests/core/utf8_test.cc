#include "core/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace rlm::utf8 {
namespace {

TEST(Utf8, FindInvalidAcceptsValidText) {
  EXPECT_EQ(FindInvalid(""), std::nullopt);
  EXPECT_EQ(FindInvalid("plain ascii text that is longer than eight bytes"), std::nullopt);
  EXPECT_EQ(FindInvalid("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), std::nullopt);
}

TEST(Utf8, FindInvalidNamesTheOffset) {
  EXPECT_EQ(FindInvalid("abcdefghij\xFFxyz"), 10u);
  EXPECT_EQ(FindInvalid("ab\xC3"), 2u);                      // truncated sequence
  EXPECT_EQ(FindInvalid("ab\xC0\xAF"), 2u);                  // overlong
  EXPECT_EQ(FindInvalid("\xED\xA0\x80"), 0u);                // surrogate
  EXPECT_EQ(FindInvalid("x\xF4\x90\x80\x80"), 1u);           // above U+10FFFF
  EXPECT_EQ(FindInvalid("\xE2\x82"), 0u);
}

TEST(Utf8, BoundariesNeverSplitASequence) {
  std::string s = "a\xE2\x82\xAC" "b";  // a € b
  EXPECT_EQ(FloorBoundary(s, 2), 1u);
  EXPECT_EQ(FloorBoundary(s, 3), 1u);
  EXPECT_EQ(CeilBoundary(s, 2), 4u);
  EXPECT_EQ(Truncate(s, 3), "a");
  EXPECT_EQ(Truncate(s, 4), "a\xE2\x82\xAC");
  EXPECT_EQ(FloorBoundary(s, 100), s.size());
}

TEST(Utf8, DecodeAndAppendRoundTrip) {
  for (char32_t cp : {U'a', U'\u00e9', U'\u20ac', U'\U0001F600'}) {
    std::string s;
    Append(s, cp);
    size_t len = 0;
    EXPECT_EQ(Decode(s, 0, &len), cp);
    EXPECT_EQ(len, s.size());
  }
}

TEST(Utf8, BomAndNewlines) {
  EXPECT_EQ(BomLength("\xEF\xBB\xBFhello"), 3u);
  EXPECT_EQ(BomLength("hello"), 0u);
  EXPECT_EQ(CountNewlines("a\nb\n\nc"), 3u);
}

}  // namespace
}  // namespace rlm::utf8
