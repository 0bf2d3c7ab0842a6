#include "index/fusion.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"

namespace rlm {
namespace {

using List = std::vector<ScoredDoc>;

TEST(ReciprocalRankFusion, HandComputedExample) {
  // Scores of the input lists are ignored: only ranks matter.
  const std::vector<List> lists = {{{1, 9.0f}, {2, 8.0f}, {3, 7.0f}}, {{3, 0.9f}, {1, 0.5f}, {4, 0.1f}}};
  const List fused = ReciprocalRankFusion(lists, 60);
  const List expected = {{1, static_cast<float>(1.0 / 61 + 1.0 / 62)},
                         {3, static_cast<float>(1.0 / 63 + 1.0 / 61)},
                         {2, static_cast<float>(1.0 / 62)},
                         {4, static_cast<float>(1.0 / 63)}};
  EXPECT_EQ(fused, expected);
}

TEST(ReciprocalRankFusion, TiesBreakByLowerOrdinal) {
  const std::vector<List> lists = {{{5, 1.0f}, {9, 0.5f}}, {{2, 1.0f}, {7, 0.5f}}};
  const List fused = ReciprocalRankFusion(lists, 60);
  ASSERT_EQ(fused.size(), 4u);
  EXPECT_EQ(fused[0].doc, 2u);
  EXPECT_EQ(fused[1].doc, 5u);
  EXPECT_EQ(fused[2].doc, 7u);
  EXPECT_EQ(fused[3].doc, 9u);
  EXPECT_EQ(fused[0].score, fused[1].score);
}

TEST(ReciprocalRankFusion, EdgeCases) {
  EXPECT_TRUE(ReciprocalRankFusion(std::vector<List>{}, 60).empty());
  EXPECT_TRUE(ReciprocalRankFusion(std::vector<List>{{}, {}}, 60).empty());
  // A document repeated within one list counts once, at its best rank.
  const List fused = ReciprocalRankFusion(std::vector<List>{{{4, 1}, {4, 1}, {6, 1}}}, 0);
  ASSERT_EQ(fused.size(), 2u);
  EXPECT_EQ(fused[0], (ScoredDoc{4, 1.0f}));
  EXPECT_EQ(fused[1], (ScoredDoc{6, 1.0f / 3}));  // rank 3: the duplicate still occupies rank 2
  EXPECT_THROW(ReciprocalRankFusion(std::vector<List>{}, -1), InvalidInput);
  EXPECT_THROW(ReciprocalRankFusion(std::vector<List>{}, NAN), InvalidInput);
}

}  // namespace
}  // namespace rlm
