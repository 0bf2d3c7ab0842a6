// Property tests: every registered chunker, on random Unicode text with random sizes and overlaps,
// satisfies the contract of chunk/chunker.h.
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>

#include "chunk/chunker.h"
#include "chunk_test_util.h"

namespace rlm {
namespace {

using chunk_test::CheckChunkProperties;
using chunk_test::RandomText;

constexpr int kCasesPerChunker = 300;

ChunkOptions RandomOptions(std::mt19937_64& rng) {
  ChunkOptions options;
  switch (rng() % 3) {
    case 0:
      options.size = 1 + rng() % 8;
      break;  // smaller than some code points
    case 1:
      options.size = 1 + rng() % 300;
      break;
    default:
      options.size = 1 + rng() % 5000;
      break;
  }
  options.overlap = rng() % 3 == 0 ? 0 : rng() % options.size;
  static const char* kLanguages[] = {"",           "",   "",     "rust", "python", "c",          "cpp",
                                     "javascript", "go", "java", "ruby", "php",    "typescript", "klingon"};
  static const char* kPaths[] = {"", "", "notes.txt", "main.rs", "app.py", "x.cc", "index.ts", "README.md"};
  options.language = kLanguages[rng() % std::size(kLanguages)];
  options.path = kPaths[rng() % std::size(kPaths)];
  return options;
}

size_t RandomLength(std::mt19937_64& rng) {
  switch (rng() % 8) {
    case 0:
      return 0;
    case 1:
      return 1 + rng() % 16;
    case 2:
      return 20000 + rng() % 40000;
    default:
      return 1 + rng() % 8000;
  }
}

TEST(ChunkPropertyTest, EveryChunkerSatisfiesTheContract) {
  for (const std::string& name : ChunkerNames()) {
    SCOPED_TRACE("chunker " + name);
    const auto chunker = MakeChunker(name);
    std::mt19937_64 rng(std::hash<std::string>{}(name) ^ 0x5eed);
    for (int i = 0; i < kCasesPerChunker; ++i) {
      const ChunkOptions options = RandomOptions(rng);
      const std::string text = RandomText(rng, RandomLength(rng));
      ValidateChunkOptions(options);
      const std::vector<ChunkSpan> chunks = chunker->Split(text, options);
      const std::string problem = CheckChunkProperties(text, chunks, options);
      ASSERT_EQ(problem, "") << "case " << i << ": size " << options.size << ", overlap " << options.overlap
                             << ", language '" << options.language << "', path '" << options.path
                             << "', text of " << text.size() << " bytes";
    }
  }
}

TEST(ChunkPropertyTest, EveryChunkerHandlesEdgeTexts) {
  const std::string edge_texts[] = {
      "",
      "a",
      "\xF0\x9F\x98\x80",                                   // one 4-byte code point
      "\n\n\n\n\n\n\n\n\n\n",                               // only paragraph breaks
      std::string(10000, ' '),                              // only whitespace
      std::string(10000, 'x'),                              // no boundary at all
      "e\xCC\x81\xCC\x81\xCC\x81\xCC\x81\xCC\x81\xCC\x81",  // one long grapheme cluster
      "# h\n```\n# x\n",                                    // unterminated fence
      "---\ntitle: x\n---\n# Heading\ntext\n",              // front matter
  };
  for (const std::string& name : ChunkerNames()) {
    const auto chunker = MakeChunker(name);
    for (const std::string& text : edge_texts) {
      for (size_t size : {1, 2, 3, 4, 5, 7, 16, 3000}) {
        for (size_t overlap : {size_t{0}, size / 2, size - 1}) {
          ChunkOptions options;
          options.size = size;
          options.overlap = overlap;
          const std::string problem = CheckChunkProperties(text, chunker->Split(text, options), options);
          ASSERT_EQ(problem, "") << name << " size " << size << " overlap " << overlap << " text '" << text
                                 << "'";
        }
      }
    }
  }
}

TEST(ChunkPropertyTest, ChunkersAreDescribed) {
  for (const std::string& name : ChunkerNames()) {
    const auto chunker = MakeChunker(name);
    EXPECT_EQ(chunker->Name(), name);
    EXPECT_FALSE(chunker->Description().empty()) << name;
  }
}

}  // namespace
}  // namespace rlm
