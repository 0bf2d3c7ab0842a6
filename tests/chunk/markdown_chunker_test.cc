#include "chunk/markdown_chunker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "chunk_test_util.h"

namespace rlm {
namespace {

using chunk_test::CheckChunkProperties;

size_t LineStart(const std::string& text, std::string_view line) {
  const size_t pos = text.find("\n" + std::string(line));
  EXPECT_NE(pos, std::string::npos) << line;
  return pos + 1;
}

const std::string kDoc =
    "# Title\n\nIntro paragraph.\n\n## Install\n\nRun this:\n\n```sh\n# not a heading\nmake install\n```\n\n"
    "## Usage\n\nText.\n\nSetext Heading\n--------------\n\nMore text.\n\n### Deep\nLast words.\n";

TEST(MarkdownChunkerTest, FindsHeadingsAndBlocksButNothingInFences) {
  const std::vector<StructureCut> expected = {
      {LineStart(kDoc, "Intro paragraph."), kMarkdownBlockRank},
      {LineStart(kDoc, "## Install"), 1},
      {LineStart(kDoc, "Run this:"), kMarkdownBlockRank},
      {LineStart(kDoc, "```sh"), kMarkdownBlockRank},
      {LineStart(kDoc, "## Usage"), 1},
      {LineStart(kDoc, "Text."), kMarkdownBlockRank},
      {LineStart(kDoc, "Setext Heading"), 1},
      {LineStart(kDoc, "More text."), kMarkdownBlockRank},
      {LineStart(kDoc, "### Deep"), 2},
  };
  EXPECT_EQ(FindMarkdownCuts(kDoc), expected);
}

TEST(MarkdownChunkerTest, IgnoresFrontMatterAndNonHeadings) {
  const std::string text = "---\ntitle: x\n---\n#hashtag\n####### seven\n    # indented code\nText\n";
  const auto cuts = FindMarkdownCuts(text);  // one vector: begin() and end() must come from the same object
  EXPECT_TRUE(std::none_of(cuts.begin(), cuts.end(),
                           [](const StructureCut& c) { return c.rank < kMarkdownBlockRank; }));
}

TEST(MarkdownChunkerTest, CutsBeforeHeadings) {
  std::string text;
  for (int i = 0; i < 6; ++i) {
    text += "## Section " + std::to_string(i) + "\n\n";
    for (int k = 0; k < 4; ++k) text += "Some words in a paragraph of section " + std::to_string(i) + ".\n";
    text += "\n";
  }
  ChunkOptions options;
  options.size = 300;  // one section (~200 bytes) fits, two do not
  options.overlap = 50;
  const auto chunks = MarkdownChunker().Split(text, options);
  EXPECT_EQ(CheckChunkProperties(text, chunks, options), "");
  EXPECT_EQ(chunks.size(), 6u);
  for (const ChunkSpan& c : chunks) EXPECT_EQ(text.substr(c.start, 3), "## ");
}

TEST(MarkdownChunkerTest, KeepsFencedCodeWhole) {
  std::string text = "# Guide\n\n";
  for (int i = 0; i < 5; ++i) text += "Paragraph number " + std::to_string(i) + " explains a step.\n\n";
  const size_t fence_start = text.size();
  text += "```python\n";
  for (int i = 0; i < 8; ++i)
    text += "# comment " + std::to_string(i) + "\nx = " + std::to_string(i) + "\n\n";
  text += "```\n";
  const size_t fence_end = text.size();
  text += "\nAfter the code.\n";
  ASSERT_LT(fence_end - fence_start, 200u);
  for (size_t size : {200, 250, 300}) {
    ChunkOptions options;
    options.size = size;
    options.overlap = 20;
    const auto chunks = MarkdownChunker().Split(text, options);
    EXPECT_EQ(CheckChunkProperties(text, chunks, options), "");
    for (const ChunkSpan& c : chunks) {
      EXPECT_FALSE(c.start > fence_start && c.start < fence_end) << "chunk starts inside the fence";
      EXPECT_FALSE(c.end > fence_start && c.end < fence_end) << "chunk ends inside the fence";
    }
  }
}

TEST(MarkdownChunkerTest, SplitsAnOversizedBlockSemantically) {
  std::string text = "# Big\n\n";
  for (int i = 0; i < 100; ++i) text += "word" + std::to_string(i) + " ";
  ChunkOptions options;
  options.size = 100;
  options.overlap = 10;
  const auto chunks = MarkdownChunker().Split(text, options);
  EXPECT_EQ(CheckChunkProperties(text, chunks, options), "");
  EXPECT_GT(chunks.size(), 5u);
}

}  // namespace
}  // namespace rlm
