#include "index/fusion.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
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
  // weighted: d1 = .25*1 + .75*0(floor of B) = .25; d2 = .125; d3 = 0 + .75 = .75; d4 = .25*0(floor A) + 0 =
  // 0.
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

// ---- ranx's methods and normalisations (FuseLists), each against numbers worked out by hand ----

namespace rlm {
namespace {

using Ranked = std::vector<RankedDoc>;

// The shared example: list 0 ranks docs 1, 2, 3 with scores 10, 6, 2; list 1 ranks docs 3, 4 with 0.9, 0.5.
// m = 4 candidates. Min-max (ranx's default): list 0 -> 1, 0.5, 0; list 1 -> 1, 0.
const std::vector<Ranked> kTwo = {{{1, 10}, {2, 6}, {3, 2}}, {{3, 0.9}, {4, 0.5}}};

FusionSpec Spec(std::string_view method, std::string_view norm = "min-max",
                std::vector<double> weights = {}) {
  FusionSpec s;
  s.method = FindFusionMethod(method).method;
  s.norm = FindFusionNorm(norm).norm;
  s.weights = std::move(weights);
  return s;
}

// The fused scores by document ordinal, and the ranking as a list of ordinals.
std::map<uint32_t, double> Scores(const Ranked& fused) {
  std::map<uint32_t, double> out;
  for (const RankedDoc& d : fused) out[d.doc] = d.score;
  return out;
}
std::vector<uint32_t> Order(const Ranked& fused) {
  std::vector<uint32_t> out;
  for (const RankedDoc& d : fused) out.push_back(d.doc);
  return out;
}

void ExpectScores(const Ranked& fused, const std::map<uint32_t, double>& want) {
  const auto got = Scores(fused);
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [doc, score] : want) EXPECT_NEAR(got.at(doc), score, 1e-12) << "doc " << doc;
}

TEST(Fusion, CombFamilyByHand) {
  // min: d1 1, d2 .5, d3 min(0, 1) = 0, d4 0.      max: d3 max(0, 1) = 1.
  // med: d3 (0 + 1) / 2 = .5.                       sum: d3 0 + 1 = 1.
  // anz: d3 1 / 2.    mnz: d3 1 * 2.    gmnz(gamma .5): d3 1 * 2^.5.
  ExpectScores(FuseLists(kTwo, Spec("min")), {{1, 1}, {2, .5}, {3, 0}, {4, 0}});
  ExpectScores(FuseLists(kTwo, Spec("CombMAX")), {{1, 1}, {2, .5}, {3, 1}, {4, 0}});
  ExpectScores(FuseLists(kTwo, Spec("med")), {{1, 1}, {2, .5}, {3, .5}, {4, 0}});
  ExpectScores(FuseLists(kTwo, Spec("sum")), {{1, 1}, {2, .5}, {3, 1}, {4, 0}});
  ExpectScores(FuseLists(kTwo, Spec("anz")), {{1, 1}, {2, .5}, {3, .5}, {4, 0}});
  ExpectScores(FuseLists(kTwo, Spec("mnz")), {{1, 1}, {2, .5}, {3, 2}, {4, 0}});
  FusionSpec g = Spec("gmnz");
  g.params.gamma = 0.5;
  ExpectScores(FuseLists(kTwo, g), {{1, 1}, {2, .5}, {3, std::sqrt(2.0)}, {4, 0}});
  // Ties break by the lower ordinal: max ranks d1 (1) before d3 (1); min ranks d3 (0) before d4 (0).
  EXPECT_EQ(Order(FuseLists(kTwo, Spec("max"))), (std::vector<uint32_t>{1, 3, 2, 4}));
  EXPECT_EQ(Order(FuseLists(kTwo, Spec("min"))), (std::vector<uint32_t>{1, 2, 3, 4}));
  // The median of an even count is the mean of the two middle values. d7's min-max scores in four lists:
  // 1, (2 - 0) / 4 = .5, 0, 1 -> sorted 0 .5 1 1 -> (.5 + 1) / 2.
  const std::vector<Ranked> four = {
      {{7, 3}, {8, 1}}, {{8, 4}, {7, 2}, {9, 0}}, {{8, 1}, {7, 0}}, {{7, 5}, {8, 0}}};
  EXPECT_NEAR(Scores(FuseLists(four, Spec("med"))).at(7), 0.75, 1e-12);
}

TEST(Fusion, WeightedScoreMethodsByHand) {
  const std::vector<double> w = {0.25, 0.75};
  // wsum: d1 .25 * 1 = .25; d2 .25 * .5 = .125; d3 .25 * 0 + .75 * 1 = .75; d4 .75 * 0 = 0.
  ExpectScores(FuseLists(kTwo, Spec("wsum", "min-max", w)), {{1, .25}, {2, .125}, {3, .75}, {4, 0}});
  // wmnz: CombSUM * the weights of the lists containing it: d1 1 * .25; d2 .5 * .25; d3 1 * (.25 + .75); d4
  // 0.
  ExpectScores(FuseLists(kTwo, Spec("wmnz", "min-max", w)), {{1, .25}, {2, .125}, {3, 1}, {4, 0}});
  // mixed: weighted sum * sqrt(lists): d3 .75 * sqrt(2).
  ExpectScores(FuseLists(kTwo, Spec("mixed", "min-max", w)),
               {{1, .25}, {2, .125}, {3, .75 * std::sqrt(2.0)}, {4, 0}});
  // No weights: 1 for every list, so wsum is CombSUM.
  ExpectScores(FuseLists(kTwo, Spec("wsum")), {{1, 1}, {2, .5}, {3, 1}, {4, 0}});
}

TEST(Fusion, RankMethodsByHand) {
  // Positions: d1 0 (list 0); d2 1 (list 0); d3 2 (list 0) and 0 (list 1); d4 1 (list 1).
  // rrf (k 60): 1 / (60 + p + 1).
  ExpectScores(FuseLists(kTwo, Spec("rrf")),
               {{1, 1.0 / 61}, {2, 1.0 / 62}, {3, 1.0 / 63 + 1.0 / 61}, {4, 1.0 / 62}});
  // isr: sum of 1 / (p + 1)^2 times lists: d1 1; d2 1/4; d3 (1/9 + 1) * 2; d4 1/4.
  ExpectScores(FuseLists(kTwo, Spec("isr")), {{1, 1}, {2, .25}, {3, (1.0 / 9 + 1) * 2}, {4, .25}});
  // log_isr: times ln(lists): ln 1 = 0 for documents of one list; d3 (10/9) ln 2.
  ExpectScores(FuseLists(kTwo, Spec("log_isr")), {{1, 0}, {2, 0}, {3, 10.0 / 9 * std::log(2.0)}, {4, 0}});
  // logn_isr (sigma .01): times ln(lists + .01).
  const double l1 = std::log(1.01), l2 = std::log(2.01);
  ExpectScores(FuseLists(kTwo, Spec("logn_isr")),
               {{1, l1}, {2, .25 * l1}, {3, 10.0 / 9 * l2}, {4, .25 * l1}});
  // rbc (phi .5): (1 - phi) phi^p: d1 .5; d2 .25; d3 .125 + .5; d4 .25.
  FusionSpec rbc = Spec("rbc");
  rbc.params.phi = 0.5;
  ExpectScores(FuseLists(kTwo, rbc), {{1, .5}, {2, .25}, {3, .625}, {4, .25}});
  // Rank-based methods ignore the normalisation (the ranking is the same).
  EXPECT_EQ(FuseLists(kTwo, Spec("rrf", "none")), FuseLists(kTwo, Spec("rrf", "zmuv")));
}

TEST(Fusion, BordaByHand) {
  // m = 4. List 0 (n 3): d1 4, d2 3, d3 2, absent d4 (4 - 3 + 1) / 2 = 1.
  //        List 1 (n 2): d3 4, d4 3, absent d1, d2 (4 - 2 + 1) / 2 = 1.5.
  ExpectScores(FuseLists(kTwo, Spec("bordafuse")), {{1, 5.5}, {2, 4.5}, {3, 6}, {4, 4}});
  // Weighted (.25, .75): d1 .25*4 + .75*1.5 = 2.125; d2 .75 + 1.125 = 1.875; d3 .5 + 3 = 3.5; d4 .25 + 2.25.
  ExpectScores(FuseLists(kTwo, Spec("w_bordafuse", "min-max", {0.25, 0.75})),
               {{1, 2.125}, {2, 1.875}, {3, 3.5}, {4, 2.5}});
  // An empty list takes no part (no absent points): list 0 alone, m = 3: d1 3, d2 2, d3 1.
  const std::vector<Ranked> with_empty = {kTwo[0], {}};
  ExpectScores(FuseLists(with_empty, Spec("bordafuse")), {{1, 3}, {2, 2}, {3, 1}});
}

TEST(Fusion, CondorcetByHand) {
  // Three voters over a (0), b (1), c (2): a b c / b c a / b a c. b beats a 2-1 and c 3-0; a beats c 2-1.
  // Merge sort from ordinal order [a b c]: [a b] -> b beats a -> [b a]; merge with [c]: c beats neither.
  const std::vector<Ranked> votes = {
      {{0, 3}, {1, 2}, {2, 1}}, {{1, 3}, {2, 2}, {0, 1}}, {{1, 3}, {0, 2}, {2, 1}}};
  const Ranked fused = FuseLists(votes, Spec("condorcet"));
  EXPECT_EQ(Order(fused), (std::vector<uint32_t>{1, 0, 2}));
  ExpectScores(fused, {{1, 3}, {0, 2}, {2, 1}});
  // kTwo, unweighted: d1 beats d2 (list 0; list 1 ranks neither); d3 beats d4 2-0; every other pair ties
  // 1-1, so the merge keeps ordinal order: 1 2 3 4.
  EXPECT_EQ(Order(FuseLists(kTwo, Spec("condorcet"))), (std::vector<uint32_t>{1, 2, 3, 4}));
  // Weighted (.25, .75): list 1's votes win every tie of the unweighted case: d3 and d4 beat d1 and d2.
  // [1 2] stays; [3 4] stays; merge: d3 beats d1 -> 3; d4 beats d1 -> 4; then 1 2.
  const Ranked w = FuseLists(kTwo, Spec("w_condorcet", "min-max", {0.25, 0.75}));
  EXPECT_EQ(Order(w), (std::vector<uint32_t>{3, 4, 1, 2}));
  ExpectScores(w, {{3, 4}, {4, 3}, {1, 2}, {2, 1}});
}

TEST(Fusion, SupervisedMethodsByHand) {
  FusionModel model;
  // posfuse: P(rel | position). List 0: .5, .25 (position 2 untrained -> 0); list 1: 1, 0.
  model.lists = {{0.5, 0.25}, {1.0, 0.0}};
  ExpectScores(FuseLists(kTwo, Spec("posfuse"), &model), {{1, .5}, {2, .25}, {3, 1}, {4, 0}});
  // probfuse: 2 segments per list. List 0 (n 3): segment size ceil(3/2) = 2: positions 0, 1 -> .6 / 1,
  // position 2 -> .2 / 2. List 1 (n 2): size 1: position 0 -> .4, position 1 -> .1 / 2.
  model.lists = {{0.6, 0.2}, {0.4, 0.1}};
  ExpectScores(FuseLists(kTwo, Spec("probfuse"), &model), {{1, .6}, {2, .6}, {3, .1 + .4}, {4, .05}});
  // segfuse: every position is in segment 0 (positions 0-4): P * (min-max score + 1).
  // d1 .3 * 2; d2 .3 * 1.5; d3 .3 * 1 + .2 * 2; d4 .2 * 1.
  model.lists = {{0.3, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {0.2, 0, 0, 0, 0, 0, 0, 0, 0, 0}};
  ExpectScores(FuseLists(kTwo, Spec("segfuse"), &model), {{1, .6}, {2, .45}, {3, .7}, {4, .2}});
  // slidefuse (window 1): list 0 P .5 .25 .125, n 3: p0 -> (.5 + .25) / 2; p1 -> (.5 + .25 + .125) / 3;
  // p2 -> (.25 + .125) / 2. List 1 P 1 0, n 2: p0 -> (1 + 0) / 2; p1 -> (1 + 0) / 2.
  model.lists = {{0.5, 0.25, 0.125}, {1.0, 0.0}};
  FusionSpec slide = Spec("slidefuse");
  slide.params.window = 1;
  ExpectScores(FuseLists(kTwo, slide, &model), {{1, .375}, {2, .875 / 3}, {3, .1875 + .5}, {4, .5}});
  // mapfuse: MAP / (p + 1): list 0 MAP .5, list 1 .8: d3 .5 / 3 + .8 / 1.
  model.lists = {{0.5}, {0.8}};
  ExpectScores(FuseLists(kTwo, Spec("mapfuse"), &model), {{1, .5}, {2, .25}, {3, .5 / 3 + .8}, {4, .4}});
  // bayesfuse: log-odds by position; a document absent from a list gets ln(.001 / .999) from it.
  // List 0 odds 2 1 .5; list 1 odds 3 -1.
  const double missing = std::log(0.001 / 0.999);
  model.lists = {{2, 1, 0.5}, {3, -1}};
  ExpectScores(FuseLists(kTwo, Spec("bayesfuse"), &model),
               {{1, 2 + missing}, {2, 1 + missing}, {3, 0.5 + 3}, {4, missing - 1}});
  // Supervised methods without a model, or with one of the wrong shape, are refused.
  EXPECT_THROW(FuseLists(kTwo, Spec("posfuse")), InvalidInput);
  model.lists = {{0.5}};
  EXPECT_THROW(FuseLists(kTwo, Spec("posfuse"), &model), InvalidInput);
  model.lists = {{0.1, 0.2}, {0.3}};
  EXPECT_THROW(FuseLists(kTwo, Spec("segfuse"), &model), InvalidInput);
}

// Every normalisation, read through CombSUM of one list (10, 6, 2 for docs 1, 2, 3).
TEST(Fusion, NormalizationsByHand) {
  const std::vector<Ranked> one = {kTwo[0]};
  ExpectScores(FuseLists(one, Spec("sum", "none")), {{1, 10}, {2, 6}, {3, 2}});
  // min-max: (s - 2) / 8.  max: s / 10.  sum: (s - 2) / (18 - 3 * 2).
  ExpectScores(FuseLists(one, Spec("sum", "min-max")), {{1, 1}, {2, .5}, {3, 0}});
  ExpectScores(FuseLists(one, Spec("sum", "max")), {{1, 1}, {2, .6}, {3, .2}});
  ExpectScores(FuseLists(one, Spec("sum", "sum")), {{1, 8.0 / 12}, {2, 4.0 / 12}, {3, 0}});
  // zmuv: mean 6, population sd sqrt(32 / 3).
  const double sd = std::sqrt(32.0 / 3);
  ExpectScores(FuseLists(one, Spec("sum", "z-score")), {{1, 4 / sd}, {2, 0}, {3, -4 / sd}});
  // rank: 1 - p / 3.
  ExpectScores(FuseLists(one, Spec("sum", "rank")), {{1, 1}, {2, 2.0 / 3}, {3, 1.0 / 3}});
  // borda over list 0 and a list ranking doc 4 alone: m = 4. List 0: 1 - p/4 = 1, .75, .5; absent d4
  // .5 - (3 - 1) / 8 = .25. List 1: d4 1; absent d1-d3 .5 - 0 / 8 = .5. CombSUM: d1 1.5, d2 1.25, d3 1,
  // d4 1.25.
  const std::vector<Ranked> borda = {kTwo[0], {{4, 7}}};
  ExpectScores(FuseLists(borda, Spec("sum", "borda")), {{1, 1.5}, {2, 1.25}, {3, 1}, {4, 1.25}});
  // Borda normalisation puts every document in every list (as ranx): CombMNZ doubles every sum.
  ExpectScores(FuseLists(borda, Spec("mnz", "borda")), {{1, 3}, {2, 2.5}, {3, 2}, {4, 2.5}});
}

TEST(Fusion, EdgeCases) {
  // Every score equal: min-max divides by the 1e-9 floor, so all become 0 (ranx); max norm gives 1.
  const std::vector<Ranked> equal = {{{1, 5}, {2, 5}}, {{2, 1}, {3, 0}}};
  ExpectScores(FuseLists(equal, Spec("sum")), {{1, 0}, {2, 1}, {3, 0}});
  ExpectScores(FuseLists(equal, Spec("sum", "max")), {{1, 1}, {2, 1 + 1}, {3, 0}});
  ExpectScores(FuseLists(equal, Spec("sum", "zmuv")), {{1, 0}, {2, 0 + 1}, {3, -1}});
  // Disjoint lists: every document comes from one list; RRF ties at equal positions break by ordinal.
  const std::vector<Ranked> disjoint = {{{5, 2}, {6, 1}}, {{1, 9}, {2, 8}}};
  EXPECT_EQ(Order(FuseLists(disjoint, Spec("rrf"))), (std::vector<uint32_t>{1, 5, 2, 6}));
  // Corpus-wide ordinals (rlm search) are mapped through a hash table rather than a dense array; the same
  // sums as kTwo's: d1 1, d2 .5, d3 0 + 1, d4 0.
  const uint32_t b = 4000000000u;
  const std::vector<Ranked> big = {{{b + 1, 10}, {b + 2, 6}, {b + 3, 2}}, {{b + 3, 0.9}, {b + 4, 0.5}}};
  ExpectScores(FuseLists(big, Spec("sum")), {{b + 1, 1}, {b + 2, .5}, {b + 3, 1}, {b + 4, 0}});
  // No lists, or only empty ones: nothing.
  EXPECT_TRUE(FuseLists(std::vector<Ranked>{}, Spec("sum")).empty());
  EXPECT_TRUE(FuseLists(std::vector<Ranked>{{}, {}}, Spec("condorcet")).empty());
  // A document repeated within a list counts once, at its first position (the repeat keeps its place).
  ExpectScores(FuseLists(std::vector<Ranked>{{{4, 3}, {4, 2}, {6, 1}}}, Spec("rrf")),
               {{4, 1.0 / 61}, {6, 1.0 / 63}});
  // A score that is not finite is refused.
  EXPECT_THROW(FuseLists(std::vector<Ranked>{{{1, NAN}}}, Spec("sum")), InvalidInput);
  // Weights: one per list, finite.
  EXPECT_THROW(FuseLists(kTwo, Spec("wsum", "min-max", {1})), InvalidInput);
  EXPECT_THROW(FuseLists(kTwo, Spec("wsum", "min-max", {1, INFINITY})), InvalidInput);
  // Parameters in range.
  FusionSpec bad = Spec("logn_isr");
  bad.params.sigma = 2;
  EXPECT_THROW(FuseLists(kTwo, bad), InvalidInput);
}

TEST(Fusion, Registry) {
  // Every method once, with ranx's name; aliases and case are accepted.
  std::set<FusionMethod> seen;
  for (const FusionMethodInfo& m : FusionMethods()) {
    EXPECT_TRUE(seen.insert(m.method).second) << m.name;
    EXPECT_EQ(&FindFusionMethod(m.name), &m);
    EXPECT_EQ(&FusionMethodOf(m.method), &m);
  }
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_EQ(FindFusionMethod("CombMNZ").method, FusionMethod::kCombMnz);
  EXPECT_EQ(FindFusionMethod("weighted-condorcet").method, FusionMethod::kWeightedCondorcet);
  EXPECT_EQ(FindFusionNorm("min_max").norm, FusionNorm::kMinMax);
  EXPECT_EQ(FindFusionNorm("z-score").norm, FusionNorm::kZmuv);
  EXPECT_EQ(FusionNorms().size(), 7u);
  EXPECT_THROW(FindFusionMethod("combfoo"), InvalidInput);
  EXPECT_THROW(FindFusionNorm("l2"), InvalidInput);
  FusionParams p;
  SetFusionParam(FindFusionMethod("rrf"), "k", 10, p);
  EXPECT_EQ(p.k, 10);
  EXPECT_THROW(SetFusionParam(FindFusionMethod("rrf"), "gamma", 1, p), InvalidInput);
  EXPECT_THROW(SetFusionParam(FindFusionMethod("probfuse"), "segments", 2.5, p), InvalidInput);
  EXPECT_THROW(SetFusionParam(FindFusionMethod("rrf"), "k", -1, p), InvalidInput);
}

}  // namespace
}  // namespace rlm
