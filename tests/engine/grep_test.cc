#include "engine/grep.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/utf8.h"

namespace rlm {
namespace {

TEST(Grep, FindsMatchesWithOffsetsLinesAndSnippets) {
  std::string text = "first line\nsecond match here\nthird match\n";
  GrepOptions o;
  o.window = 4;
  GrepResult r = Grep(text, "match", o);
  ASSERT_EQ(r.matches.size(), 2u);
  EXPECT_EQ(r.matches[0].offset, text.find("match"));
  EXPECT_EQ(r.matches[0].line, 2u);
  EXPECT_EQ(r.matches[0].matched, "match");
  EXPECT_EQ(r.matches[0].snippet, "ond match her");
  EXPECT_EQ(r.matches[1].line, 3u);
  EXPECT_FALSE(r.truncated);
}

TEST(Grep, IgnoreCaseAndMaxMatches) {
  std::string text = "Abc abc ABC aBc";
  GrepOptions o;
  o.ignore_case = true;
  o.max_matches = 2;
  GrepResult r = Grep(text, "abc", o);
  EXPECT_EQ(r.matches.size(), 2u);
  EXPECT_TRUE(r.truncated);
  o.ignore_case = false;
  o.max_matches = 20;
  EXPECT_EQ(Grep(text, "abc", o).matches.size(), 1u);
}

TEST(Grep, SnippetsNeverSplitUtf8) {
  std::string text;
  for (int i = 0; i < 50; ++i) text += "\xE2\x82\xAC";  // euro signs
  text += "X";
  for (int i = 0; i < 50; ++i) text += "\xF0\x9F\x98\x80";  // emoji
  for (size_t w = 0; w < 20; ++w) {
    GrepOptions o;
    o.window = w;
    GrepResult r = Grep(text, "X", o);
    ASSERT_EQ(r.matches.size(), 1u);
    EXPECT_EQ(utf8::FindInvalid(r.matches[0].snippet), std::nullopt) << "window " << w;
    EXPECT_NE(r.matches[0].snippet.find('X'), std::string::npos);
  }
}

TEST(Grep, EmptyMatchesTerminate) {
  GrepOptions o;
  o.max_matches = 1000;
  GrepResult r = Grep("a\xC3\xA9z", "x*", o);
  EXPECT_EQ(r.matches.size(), 4u);  // before a, before é, before z, at the end
  for (const auto& m : r.matches) EXPECT_TRUE(utf8::IsBoundary("a\xC3\xA9z", m.offset));
}

// Each zero-width match is reported once (issue 13: `(?m)^` on "a\nb\nc\n" gave 0,2,2,4,4,6,6), and an
// empty match right after a non-empty one is still found, as ripgrep and Python find them.
TEST(Grep, ZeroWidthMatchesAreReportedOnce) {
  GrepOptions o;
  o.max_matches = 1000;
  auto offsets = [&](std::string_view text, const std::string& pattern) {
    std::vector<uint64_t> out;
    for (const GrepMatch& m : Grep(text, pattern, o).matches) out.push_back(m.offset);
    return out;
  };
  EXPECT_EQ(offsets("a\nb\nc\n", "(?m)^"), (std::vector<uint64_t>{0, 2, 4, 6}));
  EXPECT_EQ(offsets("a\nb\nc\n", "(?m)$"), (std::vector<uint64_t>{1, 3, 5, 6}));
  EXPECT_EQ(offsets("abc", "\\b"), (std::vector<uint64_t>{0, 3}));
  EXPECT_EQ(offsets("aab", "a*"), (std::vector<uint64_t>{0, 2, 3}));  // "aa", then before b, then the end
}

TEST(Grep, HostilePatternRunsInLinearTime) {
  std::string text(100000, 'a');
  text += "!";
  GrepResult r = Grep(text, "(a+)+$", {});
  EXPECT_TRUE(r.matches.empty());  // RE2 answers without backtracking; a backtracking engine would not return
  GrepResult r2 = Grep(text, "(a+)+!", {});
  ASSERT_EQ(r2.matches.size(), 1u);
  EXPECT_EQ(r2.matches[0].offset, 0u);
}

TEST(Grep, InvalidPatternIsAClearError) {
  try {
    Grep("abc", "(unclosed", {});
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("(unclosed"), std::string::npos);
  }
}

}  // namespace
}  // namespace rlm
