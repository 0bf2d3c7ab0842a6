#include "index/fusion.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "index/mmr.h"

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

namespace rlm {
namespace {

// Hand-computed: list A scores 10, 6, 2 for docs 1, 2, 3; list B scores 0.9, 0.5 for docs 3, 4.
// Min-max: A -> 1, 0.5, 0; B -> 1, 0.
TEST(ScoreFusion, WeightedCombSumCombMnzByHand) {
  const std::vector<std::vector<ScoredDoc>> lists = {{{1, 10}, {2, 6}, {3, 2}}, {{3, 0.9f}, {4, 0.5f}}};
  const double w[] = {0.25, 0.75};
  // weighted: d1 = .25*1 + .75*0(floor of B) = .25; d2 = .125; d3 = 0 + .75 = .75; d4 = .25*0(floor A) + 0 = 0.
  auto weighted = FuseScores(lists, ScoreFusion::kWeighted, ScoreNorm::kMinMax, w);
  ASSERT_EQ(weighted.size(), 4u);
  EXPECT_EQ(weighted[0].doc, 3u);
  EXPECT_FLOAT_EQ(weighted[0].score, 0.75f);
  EXPECT_EQ(weighted[1].doc, 1u);
  EXPECT_FLOAT_EQ(weighted[1].score, 0.25f);
  EXPECT_EQ(weighted[2].doc, 2u);
  EXPECT_FLOAT_EQ(weighted[2].score, 0.125f);
  EXPECT_EQ(weighted[3].doc, 4u);
  EXPECT_FLOAT_EQ(weighted[3].score, 0.0f);
  // combsum: d1 = 1, d2 = .5, d3 = 0 + 1 = 1, d4 = 0; ties on score break on the lower doc.
  auto sum = FuseScores(lists, ScoreFusion::kCombSum, ScoreNorm::kMinMax);
  EXPECT_EQ(sum[0], (ScoredDoc{1, 1.0f}));
  EXPECT_EQ(sum[1], (ScoredDoc{3, 1.0f}));
  // combmnz: d3 is in both lists: 1 * 2 = 2.
  auto mnz = FuseScores(lists, ScoreFusion::kCombMnz, ScoreNorm::kMinMax);
  EXPECT_EQ(mnz[0], (ScoredDoc{3, 2.0f}));
  // z-score of A: mean 6, sd sqrt(32/3); d1 = 4 / 3.266 = 1.2247.
  auto z = FuseScores(std::span(lists).first(1), ScoreFusion::kCombSum, ScoreNorm::kZScore);
  EXPECT_NEAR(z[0].score, 4.0 / std::sqrt(32.0 / 3.0), 1e-6);
  EXPECT_NEAR(z[2].score, -4.0 / std::sqrt(32.0 / 3.0), 1e-6);
  EXPECT_THROW(FuseScores(lists, ScoreFusion::kWeighted, ScoreNorm::kMinMax, std::span<const double>(w, 1)),
               InvalidInput);
}

TEST(Mmr, LambdaOneKeepsTheOrderLambdaLowDiversifies) {
  // Docs 0 and 1 are the same direction, doc 2 is orthogonal; scores prefer 0 > 1 > 2.
  const std::vector<float> vecs = {1, 0, 1, 0, 0, 1};
  const DenseMatrixView m{vecs.data(), 3, 2};
  const std::vector<ScoredDoc> cands = {{1, 0.9f}, {0, 1.0f}, {2, 0.8f}};
  auto keep = MmrRerank(cands, m, 1.0, 3);
  ASSERT_EQ(keep.size(), 3u);
  EXPECT_EQ(keep[0].doc, 0u);
  EXPECT_EQ(keep[1].doc, 1u);
  EXPECT_EQ(keep[2].doc, 2u);
  EXPECT_GT(keep[0].score, keep[1].score);
  auto diverse = MmrRerank(cands, m, 0.5, 2);
  ASSERT_EQ(diverse.size(), 2u);
  EXPECT_EQ(diverse[0].doc, 0u);
  EXPECT_EQ(diverse[1].doc, 2u);  // the duplicate of doc 0 is demoted
  EXPECT_THROW(MmrRerank(cands, m, 1.5, 2), InvalidInput);
  const std::vector<ScoredDoc> outside = {{7, 1.0f}};
  EXPECT_THROW(MmrRerank(outside, m, 0.5, 1), InvalidInput);
}

}  // namespace
}  // namespace rlm
