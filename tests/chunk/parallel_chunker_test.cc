#include "chunk/parallel_chunker.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "chunk/segmented.h"
#include "chunk/semantic_chunker.h"
#include "chunk_test_util.h"
#include "core/utf8.h"

namespace rlm {
namespace {

using chunk_test::CheckChunkProperties;
using chunk_test::RandomText;

// The documented relation: semantic chunks of each segment, shifted by the segment's start, concatenated.
std::vector<ChunkSpan> SemanticPerSegment(std::string_view text, const ChunkOptions& options,
                                          size_t segment) {
  std::vector<size_t> bounds = SegmentText(text, segment);
  bounds.insert(bounds.begin(), 0);
  bounds.push_back(text.size());
  std::vector<ChunkSpan> chunks;
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    AppendSemanticChunks(text.substr(bounds[i], bounds[i + 1] - bounds[i]), options, bounds[i], &chunks);
  }
  return chunks;
}

TEST(ParallelChunkerTest, SegmentBytes) {
  ChunkOptions options;
  options.size = 3000;
  EXPECT_EQ(ParallelChunker::SegmentBytes(options), size_t{1} << 20);
  options.size = 100000;
  EXPECT_EQ(ParallelChunker::SegmentBytes(options), 6400000u);
  options.size = static_cast<size_t>(-1);
  EXPECT_EQ(ParallelChunker::SegmentBytes(options), static_cast<size_t>(-1));
}

TEST(ParallelChunkerTest, EqualsSemanticOnTextShorterThanASegment) {
  std::mt19937_64 rng(7);
  const std::string text = RandomText(rng, 300000);
  for (size_t size : {1, 5, 300, 3000}) {
    ChunkOptions options;
    options.size = size;
    options.overlap = size / 3;
    EXPECT_EQ(ParallelChunker().Split(text, options), SemanticChunker().Split(text, options)) << size;
  }
}

TEST(ParallelChunkerTest, EqualsSemanticPerSegmentOnLongText) {
  std::mt19937_64 rng(11);
  const std::string text = RandomText(rng, 3 * (size_t{1} << 20) + 12345);
  ChunkOptions options;  // 3000 / 500: segments of 1 MiB
  const size_t segment = ParallelChunker::SegmentBytes(options);
  const std::vector<size_t> seams = SegmentText(text, segment);
  ASSERT_GE(seams.size(), 3u);
  const auto chunks = ParallelChunker().Split(text, options);
  EXPECT_EQ(CheckChunkProperties(text, chunks, options), "");
  EXPECT_EQ(chunks, SemanticPerSegment(text, options, segment));
  // Every seam is a chunk boundary with no overlap across it.
  for (size_t seam : seams) {
    bool ends_there = false;
    bool starts_there = false;
    for (const ChunkSpan& c : chunks) {
      ends_there |= c.end == seam;
      starts_there |= c.start == seam;
      EXPECT_FALSE(c.start < seam && c.end > seam) << "chunk crosses seam " << seam;
    }
    EXPECT_TRUE(ends_there && starts_there) << seam;
  }
}

TEST(ParallelChunkerTest, SeamsAreBoundedAndPreferParagraphs) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "A line of text.\nAnother line here.\n\n";
  const std::vector<size_t> seams = SegmentText(text, 1000);
  ASSERT_FALSE(seams.empty());
  size_t previous = 0;
  for (size_t seam : seams) {
    EXPECT_LE(seam - previous, 1000u);
    EXPECT_GE(seam - previous, 500u);
    EXPECT_EQ(text.substr(seam - 2, 2), "\n\n");
    previous = seam;
  }
  EXPECT_TRUE(SegmentText("short", 1000).empty());
  EXPECT_TRUE(SegmentText("", 1000).empty());
}

TEST(ParallelChunkerTest, SeamsCanBeFoundWhileStreaming) {
  std::mt19937_64 rng(13);
  const std::string text = RandomText(rng, 400000);
  const size_t target = 20000;
  const std::vector<size_t> seams = SegmentText(text, target);
  ASSERT_GT(seams.size(), 10u);
  size_t start = 0;
  for (size_t seam : seams) {
    // A reader holding only target + 4 bytes from the segment start finds the same seam.
    const std::string_view window = std::string_view(text).substr(start, target + 4);
    EXPECT_EQ(start + NextSeam(window, 0, target), seam);
    EXPECT_TRUE(utf8::IsBoundary(text, seam));
    start = seam;
  }
}

TEST(ParallelChunkerTest, SplitSegmentedIsTheSameInParallelForEveryChunker) {
  std::mt19937_64 rng(17);
  for (int i = 0; i < 12; ++i) {
    const std::string text = RandomText(rng, 50000 + rng() % 100000);
    ChunkOptions options;
    options.size = 1 + rng() % 2000;
    options.overlap = rng() % options.size;
    const size_t segment = 2000 + rng() % 20000;
    for (const std::string& name : ChunkerNames()) {
      const auto chunker = MakeChunker(name);
      const auto parallel = SplitSegmented(*chunker, text, options, segment, true);
      EXPECT_EQ(parallel, SplitSegmented(*chunker, text, options, segment, false)) << name;
      EXPECT_EQ(CheckChunkProperties(text, parallel, options), "") << name;
      if (name == "semantic") {
        EXPECT_EQ(parallel, SemanticPerSegment(text, options, segment));
      }
    }
  }
}

}  // namespace
}  // namespace rlm
