#include "core/suggest.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/random.h"

namespace rlm {
namespace {

TEST(Suggest, EditDistanceCountsTranspositionsOnceAndIgnoresCase) {
  EXPECT_EQ(EditDistance("", ""), 0u);
  EXPECT_EQ(EditDistance("abc", ""), 3u);
  EXPECT_EQ(EditDistance("fusoin", "fusion"), 1u);  // one adjacent transposition
  EXPECT_EQ(EditDistance("Fusion", "fusion"), 0u);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3u);
}

TEST(Suggest, NearestNameOnlyForPlausibleTypos) {
  const std::vector<std::string> keys = {"k", "k1", "fusion", "alpha", "normalization"};
  EXPECT_EQ(NearestName("fusoin", keys), "fusion");
  EXPECT_EQ(NearestName("kk", keys), "k");  // ties go to a prefix
  EXPECT_EQ(NearestName("normalisation", keys), "normalization");
  EXPECT_EQ(NearestName("zzzzzz", keys), "");
  EXPECT_EQ(NearestName(std::string(100, 'a'), keys), "");
}

TEST(SplitMix64, IsTheReferenceSequenceAndUniformIndexStaysInRange) {
  SplitMix64 rng(0);
  EXPECT_EQ(rng.Next(), 0xE220A8397B1DCDAFull);  // splitmix64's first output from seed 0
  SplitMix64 r(42);
  std::vector<int> seen(7, 0);
  for (int i = 0; i < 7000; ++i) ++seen[r.UniformIndex(7)];
  for (int c : seen) EXPECT_GT(c, 800);
}

}  // namespace
}  // namespace rlm
