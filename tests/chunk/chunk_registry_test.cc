#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "chunk/chunker.h"
#include "chunk_test_util.h"
#include "core/error.h"

namespace rlm {
namespace {

TEST(ChunkRegistryTest, ListsEveryChunkerInRegistryOrder) {
  const std::vector<std::string> expected = {"fixed",    "semantic", "code",     "parallel",
                                             "sentence", "markdown", "recursive"};
  EXPECT_EQ(ChunkerNames(), expected);
  for (const std::string& name : expected) EXPECT_EQ(MakeChunker(name)->Name(), name);
}

TEST(ChunkRegistryTest, UnknownNameListsTheAvailableChunkers) {
  try {
    MakeChunker("semantik");
    FAIL() << "expected InvalidInput";
  } catch (const InvalidInput& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("semantik"), std::string::npos) << message;
    for (const std::string& name : ChunkerNames())
      EXPECT_NE(message.find(name), std::string::npos) << message;
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
  }
}

TEST(ChunkRegistryTest, ValidateRejectsZeroSize) {
  ChunkOptions options;
  options.size = 0;
  options.overlap = 0;
  try {
    ValidateChunkOptions(options);
    FAIL() << "expected InvalidInput";
  } catch (const InvalidInput& e) {
    EXPECT_STREQ(e.what(), "chunk size must be > 0");
  }
}

TEST(ChunkRegistryTest, ValidateRejectsOverlapNotSmallerThanSize) {
  ChunkOptions options;
  options.size = 300;
  for (size_t overlap : {300, 500}) {
    options.overlap = overlap;
    try {
      ValidateChunkOptions(options);
      FAIL() << "expected InvalidInput for overlap " << overlap;
    } catch (const InvalidInput& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(std::to_string(overlap)), std::string::npos) << message;
      EXPECT_NE(message.find("300"), std::string::npos) << message;
    }
  }
}

TEST(ChunkRegistryTest, ValidateAcceptsSensibleOptions) {
  ChunkOptions options;  // rlm-rs defaults: 3000 / 500
  EXPECT_NO_THROW(ValidateChunkOptions(options));
  options.size = 1;
  options.overlap = 0;
  EXPECT_NO_THROW(ValidateChunkOptions(options));
}

// The property checker must itself catch every kind of violation, or the property tests prove nothing.
TEST(ChunkRegistryTest, PropertyCheckerCatchesViolations) {
  using chunk_test::CheckChunkProperties;
  const std::string text =
      "ab\xC3\xA9"
      "cdef";  // "abécdef", é at bytes 2-3
  ChunkOptions options;
  options.size = 4;
  options.overlap = 2;
  EXPECT_EQ(CheckChunkProperties(text, {{0, 4}, {2, 6}, {5, 8}}, options), "");
  EXPECT_NE(CheckChunkProperties(text, {}, options), "");                        // nothing
  EXPECT_NE(CheckChunkProperties(text, {{0, 4}, {5, 8}}, options), "");          // gap
  EXPECT_NE(CheckChunkProperties(text, {{0, 4}, {1, 5}, {5, 8}}, options), "");  // overlap 3 > 2
  EXPECT_NE(CheckChunkProperties(text, {{0, 3}, {3, 7}, {7, 8}}, options), "");  // splits é
  EXPECT_NE(CheckChunkProperties(text, {{0, 4}, {4, 8}, {4, 8}}, options), "");  // start not increasing
  EXPECT_NE(CheckChunkProperties(text, {{0, 4}, {4, 7}}, options), "");          // does not cover the end
  EXPECT_NE(CheckChunkProperties(text, {{0, 8}}, options), "");                  // too large
  EXPECT_NE(CheckChunkProperties(text, {{0, 4}, {3, 4}, {4, 8}}, options), "");  // adds nothing
  options.size = 1;
  options.overlap = 0;
  EXPECT_EQ(CheckChunkProperties("\xC3\xA9", {{0, 2}}, options), "");  // one code point may exceed size
}

}  // namespace
}  // namespace rlm
