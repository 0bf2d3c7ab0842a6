#include "chunk/sentence_chunker.h"

#include <gtest/gtest.h>

#include <string>

#include "chunk/recursive_chunker.h"
#include "chunk_test_util.h"

namespace rlm {
namespace {

using chunk_test::CheckChunkProperties;

TEST(SentenceChunkerTest, FindsSentenceEnds) {
  EXPECT_EQ(NextSentenceEnd("Hello world. This is", 0), 13u);
  EXPECT_EQ(NextSentenceEnd("Stop! Go", 0), 6u);
  EXPECT_EQ(NextSentenceEnd("Why? Because", 0), 5u);
  EXPECT_EQ(NextSentenceEnd("He said \"Stop.\" Then left", 0), 16u);
  EXPECT_EQ(NextSentenceEnd("Wait... What", 0), 8u);
  EXPECT_EQ(NextSentenceEnd("no end here", 0), 11u);
  EXPECT_EQ(NextSentenceEnd("Para one\n\nPara two", 0), 10u);
  EXPECT_EQ(NextSentenceEnd("line one\nline two. X", 0), 19u);
  EXPECT_EQ(NextSentenceEnd("\xE4\xBD\xA0\xE5\xA5\xBD\xE3\x80\x82\xE5\x86\x8D", 0), 9u);  // 你好。再
  EXPECT_EQ(NextSentenceEnd("\xE0\xA4\xA8\xE0\xA4\xAE\xE0\xA5\xA4 x", 0), 10u);           // नम। x
}

TEST(SentenceChunkerTest, AbbreviationsAndNumbersDoNotEndSentences) {
  const std::string text = "Mr. Smith met Dr. Jones, e.g. at 3.14 p.m. on a ship. Then";
  EXPECT_EQ(NextSentenceEnd(text, 0), text.find("Then"));
  EXPECT_EQ(NextSentenceEnd("It works. and more. Next", 0), 20u);  // lowercase next word
}

TEST(SentenceChunkerTest, PacksWholeSentencesWithSentenceOverlap) {
  std::string text;
  for (int i = 0; i < 10; ++i) text += "Sentence number " + std::to_string(i) + " ok. ";  // 22 bytes each
  ChunkOptions options;
  options.size = 70;  // three sentences
  options.overlap = 25;
  const auto chunks = SentenceChunker().Split(text, options);
  EXPECT_EQ(CheckChunkProperties(text, chunks, options), "");
  for (const ChunkSpan& c : chunks) {
    EXPECT_EQ(c.start % 22, 0u);
    EXPECT_TRUE(c.end % 22 == 0 || c.end == text.size());
  }
  EXPECT_EQ(chunks[0], (ChunkSpan{0, 66}));
  EXPECT_EQ(chunks[1], (ChunkSpan{44, 110}));  // the last sentence of chunk 0 repeats
}

TEST(SentenceChunkerTest, SplitsAnOverlongSentence) {
  std::string text = "Short one. Long";
  for (int i = 0; i < 50; ++i) text += " word";
  text += " end. Tail.";
  ChunkOptions options;
  options.size = 60;
  options.overlap = 10;
  const auto chunks = SentenceChunker().Split(text, options);
  EXPECT_EQ(CheckChunkProperties(text, chunks, options), "");
  EXPECT_EQ(chunks.front(), (ChunkSpan{0, 11}));
}

TEST(RecursiveChunkerTest, MatchesLangChainOnWords) {
  // LangChain (chunk_size=10, chunk_overlap=5, strip_whitespace=False) splits this into
  // "aaaa bbbb", " bbbb cccc", " cccc dddd".
  const std::string text = "aaaa bbbb cccc dddd";
  ChunkOptions options;
  options.size = 10;
  options.overlap = 5;
  EXPECT_EQ(RecursiveChunker().Split(text, options), (std::vector<ChunkSpan>{{0, 9}, {4, 14}, {9, 19}}));
}

TEST(RecursiveChunkerTest, PrefersParagraphsThenLines) {
  const std::string text = "para one line\nsecond line\n\npara two\n\npara three is longer than the rest\n";
  ChunkOptions options;
  options.size = 30;
  options.overlap = 0;
  const auto chunks = RecursiveChunker().Split(text, options);
  EXPECT_EQ(CheckChunkProperties(text, chunks, options), "");
  // "para one line\nsecond line" (25 bytes) fits: the first paragraph is one chunk.
  EXPECT_EQ(chunks[0], (ChunkSpan{0, 25}));
  EXPECT_EQ(text.substr(chunks[1].start, 2), "\n\n");
}

TEST(RecursiveChunkerTest, SplitsLongWordsIntoGraphemes) {
  std::string text;
  for (int i = 0; i < 30; ++i) text += "e\xCC\x81";  // 3-byte clusters, no separators
  ChunkOptions options;
  options.size = 10;
  options.overlap = 3;
  const auto chunks = RecursiveChunker().Split(text, options);
  EXPECT_EQ(CheckChunkProperties(text, chunks, options), "");
  for (const ChunkSpan& c : chunks) {
    EXPECT_EQ(c.start % 3, 0u);
    EXPECT_EQ(c.end - c.start, c.end == text.size() ? c.end - c.start : 9u);
  }
}

}  // namespace
}  // namespace rlm
