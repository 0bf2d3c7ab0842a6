#include "chunk/semantic_chunker.h"

#include <gtest/gtest.h>

#include <string>

#include "chunk/boundaries.h"
#include "chunk/fixed_chunker.h"
#include "chunk_test_util.h"

namespace rlm {
namespace {

using chunk_test::CheckChunkProperties;

ChunkOptions Options(size_t size, size_t overlap) {
  ChunkOptions options;
  options.size = size;
  options.overlap = overlap;
  return options;
}

std::vector<ChunkSpan> Semantic(std::string_view text, size_t size, size_t overlap) {
  const ChunkOptions options = Options(size, overlap);
  std::vector<ChunkSpan> chunks = SemanticChunker().Split(text, options);
  EXPECT_EQ(CheckChunkProperties(text, chunks, options), "");
  return chunks;
}

TEST(SemanticChunkerTest, EmptyAndShortTexts) {
  EXPECT_TRUE(Semantic("", 10, 0).empty());
  EXPECT_EQ(Semantic("short", 10, 5), (std::vector<ChunkSpan>{{0, 5}}));
  EXPECT_EQ(Semantic("exactly10!", 10, 5), (std::vector<ChunkSpan>{{0, 10}}));
}

TEST(SemanticChunkerTest, PrefersAParagraphBreakOverLaterLineBreaks) {
  const std::string text = std::string(60, 'a') + "\n\n" + std::string(30, 'b') + "\n" + std::string(50, 'c');
  EXPECT_EQ(Semantic(text, 100, 0).front(), (ChunkSpan{0, 62}));
}

TEST(SemanticChunkerTest, TakesTheLastLineBreakWithoutAParagraphBreak) {
  const std::string text = std::string(60, 'a') + "\n" + std::string(30, 'b') + "\n" + std::string(50, 'c');
  EXPECT_EQ(Semantic(text, 100, 0).front(), (ChunkSpan{0, 92}));
}

TEST(SemanticChunkerTest, IgnoresBoundariesInTheFirstHalfOfTheWindow) {
  // The paragraph break at 12 would make a tiny chunk; a word boundary late in the window wins.
  std::string text = std::string(10, 'a') + "\n\n";
  for (int i = 0; i < 60; ++i) text += "bb ";
  const auto chunks = Semantic(text, 100, 0);
  EXPECT_GE(chunks.front().end, 50u);
  EXPECT_EQ(text[chunks.front().end - 1], ' ');
}

TEST(SemanticChunkerTest, EndsAfterASentenceWhenThereIsNoLineBreak) {
  std::string text;
  for (int i = 0; i < 20; ++i) text += "One two three four. ";
  for (const ChunkSpan& c : Semantic(text, 50, 0)) {
    if (c.end < text.size()) {
      EXPECT_EQ(text.substr(c.end - 2, 2), ". ") << c.start << "-" << c.end;
    }
  }
}

TEST(SemanticChunkerTest, EndsAfterACjkSentenceEnd) {
  std::string text;
  for (int i = 0; i < 20; ++i)
    text += "\xE4\xB8\xAD\xE6\x96\x87\xE5\x8F\xA5\xE5\xAD\x90\xE3\x80\x82";  // 中文句子。
  for (const ChunkSpan& c : Semantic(text, 40, 0)) {
    if (c.end < text.size()) {
      EXPECT_EQ(text.substr(c.end - 3, 3), "\xE3\x80\x82");
    }
  }
}

TEST(SemanticChunkerTest, CutsAtWhitespaceWithoutSentences) {
  std::string text;
  for (int i = 0; i < 50; ++i) text += "word ";
  for (const ChunkSpan& c : Semantic(text, 32, 0)) {
    if (c.end < text.size()) {
      EXPECT_EQ(text[c.end - 1], ' ');
    }
  }
}

TEST(SemanticChunkerTest, HardCutsARunWithoutBoundaries) {
  const std::string text(250, 'x');
  EXPECT_EQ(Semantic(text, 100, 0), (std::vector<ChunkSpan>{{0, 100}, {100, 200}, {200, 250}}));
}

TEST(SemanticChunkerTest, HardCutsKeepGraphemeClustersWhole) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "e\xCC\x81";  // e + combining acute: 3 bytes per cluster
  for (const ChunkSpan& c : Semantic(text, 10, 0)) {
    EXPECT_EQ(c.start % 3, 0u);
    EXPECT_EQ(c.end % 3, 0u);
  }
}

TEST(SemanticChunkerTest, OverlapStartsAtALineStart) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "line " + std::to_string(10 + i) + " xxxxxxxxxxxx\n";  // 21 bytes
  const auto chunks = Semantic(text, 100, 30);
  ASSERT_GT(chunks.size(), 2u);
  for (size_t i = 1; i < chunks.size(); ++i) {
    EXPECT_EQ(text[chunks[i].start - 1], '\n');
    EXPECT_GT(chunks[i - 1].end, chunks[i].start) << "expected an overlap";
  }
}

TEST(SemanticChunkerTest, OverlapStartsAtAWordStartWithoutLines) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "abcd ";
  const auto chunks = Semantic(text, 60, 20);
  for (size_t i = 1; i < chunks.size(); ++i) EXPECT_EQ(text[chunks[i].start - 1], ' ');
}

TEST(SemanticChunkerTest, OverlapNeverStartsInsideACodePoint) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "\xF0\x9F\x98\x80";  // 😀, no spaces
  for (size_t size : {5, 6, 7, 9, 30}) {
    for (size_t overlap : {1, 2, 3, 4}) {
      if (overlap >= size) continue;
      for (const ChunkSpan& c : Semantic(text, size, overlap)) EXPECT_EQ(c.start % 4, 0u);
    }
  }
}

TEST(SemanticChunkerTest, AppendShiftsOffsets) {
  const std::string text = "alpha beta gamma delta epsilon";
  std::vector<ChunkSpan> shifted = {{0, 100}};
  AppendSemanticChunks(text, Options(12, 0), 100, &shifted);
  const auto plain = Semantic(text, 12, 0);
  ASSERT_EQ(shifted.size(), plain.size() + 1);
  for (size_t i = 0; i < plain.size(); ++i) {
    EXPECT_EQ(shifted[i + 1], (ChunkSpan{plain[i].start + 100, plain[i].end + 100}));
  }
}

TEST(SemanticChunkerTest, GraphemeHelpers) {
  const std::string text =
      "ae\xCC\x81"
      "b";                                   // a, e + U+0301, b
  EXPECT_EQ(FloorGrapheme(text, 2, 0), 1u);  // inside "é" moves back to its start
  EXPECT_EQ(FloorGrapheme(text, 4, 0), 4u);
  EXPECT_EQ(CeilGrapheme(text, 2, text.size()), 4u);
  EXPECT_EQ(FloorGrapheme(text, 2, 1), 2u);  // no cluster boundary above the floor: the code point itself
}

TEST(FixedChunkerTest, WindowsOfSizeWithOverlap) {
  const std::string text = "abcdefghijklmnopqrstuvwxyz";
  const ChunkOptions options = Options(10, 3);
  EXPECT_EQ(FixedChunker().Split(text, options),
            (std::vector<ChunkSpan>{{0, 10}, {7, 17}, {14, 24}, {21, 26}}));
}

TEST(FixedChunkerTest, NeverSplitsACodePointEvenInTheOverlap) {
  std::string text;
  for (int i = 0; i < 50; ++i) text += "\xC3\xA9";  // é, 2 bytes
  for (size_t size = 1; size < 12; ++size) {
    for (size_t overlap = 0; overlap < size; ++overlap) {
      const ChunkOptions options = Options(size, overlap);
      const auto chunks = FixedChunker().Split(text, options);
      EXPECT_EQ(CheckChunkProperties(text, chunks, options), "") << size << "/" << overlap;
      for (const ChunkSpan& c : chunks) EXPECT_EQ(c.start % 2, 0u) << size << "/" << overlap;
    }
  }
}

TEST(FixedChunkerTest, PrefersGraphemeBoundaries) {
  std::string text;
  for (int i = 0; i < 20; ++i) text += "e\xCC\x81";
  const ChunkOptions options = Options(7, 0);
  for (const ChunkSpan& c : FixedChunker().Split(text, options)) EXPECT_EQ(c.end % 3, 0u);
}

}  // namespace
}  // namespace rlm
