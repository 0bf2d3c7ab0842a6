// Fusion of TREC runs: alignment of runs by query and document, the supervised methods' estimates from
// training qrels (worked out by hand, MAP cross-checked against trec_eval's map), the optimize grid on a
// dataset whose best weights are known by hand, and the written run read back.
#include "eval/fuse.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/file.h"
#include "eval/measures.h"
#include "eval/trec.h"

namespace rlm::trec {
namespace {

AlignedRuns Align(std::vector<std::string_view> texts) {
  std::vector<Run> runs;
  std::vector<std::string> names;
  for (std::string_view t : texts) {
    names.push_back("run" + std::to_string(names.size() + 1));
    runs.push_back(ParseRun(t, names.back()));
  }
  return AlignRuns(std::move(runs), names);
}

// Run A ranks a1 a2 a3 for q1, b1 b2 for q2, c1 for q3; run B ranks a3 a2 for q1 only.
constexpr std::string_view kRunA =
    "q1 Q0 a1 1 3 A\nq1 Q0 a2 2 2 A\nq1 Q0 a3 3 1 A\nq2 Q0 b1 1 2 A\nq2 Q0 b2 2 1 A\nq3 Q0 c1 1 1 A\n";
constexpr std::string_view kRunB = "q1 Q0 a3 1 5 B\nq1 Q0 a2 2 4 B\n";
// q1: a2 relevant, a3 judged non-relevant, zz relevant but never retrieved; q2: b1 relevant (grade 2).
// q3 is not judged: it is not a training query.
constexpr std::string_view kQrels = "q1 0 a2 1\nq1 0 a3 0\nq1 0 zz 1\nq2 0 b1 2\n";

TEST(FuseRuns, AlignsQueriesAndDocuments) {
  const AlignedRuns runs = Align({kRunA, kRunB});
  ASSERT_EQ(runs.queries.size(), 3u);
  EXPECT_EQ(runs.num_runs, 2u);
  EXPECT_EQ(runs.partial_queries, 2u);  // q2, q3 are missing from B
  EXPECT_EQ(runs.missing, (std::vector<size_t>{0, 2}));
  const AlignedRuns::Query& q1 = runs.queries[0];
  EXPECT_EQ(q1.qid, "q1");
  // Ordinals in descending docid order: a3 0, a2 1, a1 2.
  EXPECT_EQ(q1.docids, (std::vector<std::string_view>{"a3", "a2", "a1"}));
  EXPECT_EQ(q1.lists[0], (std::vector<RankedDoc>{{2, 3}, {1, 2}, {0, 1}}));
  EXPECT_EQ(q1.lists[1], (std::vector<RankedDoc>{{0, 5}, {1, 4}}));
  EXPECT_TRUE(runs.queries[1].lists[1].empty());
  // An empty run is refused, naming it.
  try {
    Align({kRunA, ""});
    FAIL() << "an empty run was accepted";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("run2 has no queries"), std::string::npos) << e.what();
  }
  // Queries whose documents all have one score are counted (min-max maps them to 0): q1 of this run, and
  // q2, which has one document.
  EXPECT_EQ(Align({"q1 Q0 x 1 2 C\nq1 Q0 y 2 2 C\nq2 Q0 z 1 1 C\n", kRunB}).equal_scores,
            (std::vector<size_t>{2, 0}));
}

TEST(FuseRuns, EstimatesByHand) {
  const AlignedRuns runs = Align({kRunA, kRunB});
  const Qrels qrels = ParseQrels(kQrels, "qrels");
  EXPECT_EQ(TrainingQueries(qrels, runs), (std::vector<size_t>{0, 1}));
  // Hit lists. A: q1 0 1 0, q2 1 0. B: q1 0 1 (B lacks q2).
  FusionSpec spec;
  spec.method = FusionMethod::kPosFuse;
  // posfuse: per position, hits / queries ranking that deep. A: (0+1)/2, (1+0)/2, 0/1. B: 0/1, 1/1.
  FusionModel m = EstimateFusionModel(qrels, runs, spec);
  EXPECT_EQ(m.lists[0], (std::vector<double>{0.5, 0.5, 0}));
  EXPECT_EQ(m.lists[1], (std::vector<double>{0, 1}));
  // probfuse, 2 segments. A: q1 size ceil(3/2) = 2: [0 1] -> .5, [0] -> 0; q2 size 1: [1] -> 1, [0] -> 0.
  // Means over 2 queries: .75, 0. B: q1 size 1: [0] 0, [1] 1.
  spec.method = FusionMethod::kProbFuse;
  spec.params.segments = 2;
  m = EstimateFusionModel(qrels, runs, spec);
  EXPECT_EQ(m.lists[0], (std::vector<double>{0.75, 0}));
  EXPECT_EQ(m.lists[1], (std::vector<double>{0, 1}));
  // segfuse: segment 0 holds positions 0-4 (size 5): A q1 1/5, q2 1/5 -> .2; B 1/5 -> .2; the rest 0.
  spec.method = FusionMethod::kSegFuse;
  m = EstimateFusionModel(qrels, runs, spec);
  ASSERT_EQ(m.lists[0].size(), 10u);
  EXPECT_DOUBLE_EQ(m.lists[0][0], 0.2);
  EXPECT_DOUBLE_EQ(m.lists[1][0], 0.2);
  EXPECT_EQ(m.lists[0][1], 0);
  // bayesfuse: cut-off segment 0-4 has mean precision .2 -> ln(.2 / .8) at positions 0-4; the segments
  // beyond have none -> ln(.001 / .999).
  spec.method = FusionMethod::kBayesFuse;
  m = EstimateFusionModel(qrels, runs, spec);
  ASSERT_EQ(m.lists[0].size(), 1000u);
  EXPECT_DOUBLE_EQ(m.lists[0][4], std::log(0.25));
  EXPECT_DOUBLE_EQ(m.lists[0][5], std::log(0.001 / 0.999));
  EXPECT_DOUBLE_EQ(m.lists[0][999], std::log(0.001 / 0.999));
  // mapfuse: A q1 AP = (1/2) / 2 relevant = .25, q2 AP = 1 -> .625; B q1 (1/2) / 2 = .25.
  spec.method = FusionMethod::kMapFuse;
  m = EstimateFusionModel(qrels, runs, spec);
  EXPECT_DOUBLE_EQ(m.lists[0][0], 0.625);
  EXPECT_DOUBLE_EQ(m.lists[1][0], 0.25);
  // ... the same as trec_eval's map of each run.
  const MeasureSet map = MeasureSet::FromArgs(std::vector<std::string>{"map"});
  EXPECT_DOUBLE_EQ(Evaluate(qrels, ParseRun(kRunA, "A"), map).summary[0], m.lists[0][0]);
  EXPECT_DOUBLE_EQ(Evaluate(qrels, ParseRun(kRunB, "B"), map).summary[0], m.lists[1][0]);
  // No training query: refused.
  EXPECT_THROW(EstimateFusionModel(ParseQrels("q9 0 a1 1\n", "q"), runs, spec), InvalidInput);
  spec.method = FusionMethod::kRrf;
  EXPECT_THROW(EstimateFusionModel(qrels, runs, spec), InvalidInput);
}

TEST(FuseRuns, WritesAndReadsBack) {
  const AlignedRuns runs = Align({kRunA, kRunB});
  FusionSpec spec;  // rrf, k 60
  const trec::Run fused = FuseRuns(runs, spec, nullptr, 2, "fusedrun");
  ASSERT_EQ(fused.queries.size(), 3u);
  // q1: a3 1/63 + 1/61, a2 1/62 + 1/62, a1 1/61: a3 > a2 > a1; depth 2 keeps a3, a2.
  ASSERT_EQ(fused.queries[0].entries.size(), 2u);
  EXPECT_EQ(fused.queries[0].entries[0].docid, "a3");
  EXPECT_EQ(fused.queries[0].entries[1].docid, "a2");
  // q2 and q3 are fused from run A alone.
  EXPECT_EQ(fused.queries[1].entries[0].docid, "b1");
  EXPECT_DOUBLE_EQ(fused.queries[1].entries[0].score, 1.0 / 61);
  const std::string text = FormatRun(fused);
  EXPECT_EQ(text.substr(0, text.find('\n')), "q1 Q0 a3 1 " + std::string([] {
                                               char b[32];
                                               std::snprintf(b, sizeof b, "%.17g", 1.0 / 63 + 1.0 / 61);
                                               return std::string(b);
                                             }()) +
                                                 " fusedrun");
  // Read back, every score is the same double and trec_eval's ranking is the written one.
  const trec::Run back = ParseRun(text, "fused");
  ASSERT_EQ(back.queries.size(), 3u);
  for (size_t q = 0; q < 3; ++q) {
    std::vector<RunEntry> ranked = back.queries[q].entries;
    RankEntries(ranked);
    ASSERT_EQ(ranked.size(), fused.queries[q].entries.size());
    for (size_t i = 0; i < ranked.size(); ++i) {
      EXPECT_EQ(ranked[i].docid, fused.queries[q].entries[i].docid);
      EXPECT_EQ(ranked[i].score, fused.queries[q].entries[i].score);
    }
  }
}

// The best weights are known by hand. Min-max scores equal the raw ones (each list spans 0..1).
//   q1: A gives r1 1, x1 0; B gives x1 1, r1 0. wsum: r1 = wA, x1 = 1 - wA: r1 first iff wA > .5 (at .5
//       the tie goes to the larger docid, x1).
//   q2: A gives x2 1, r2 .7, z2 0; B gives r2 1, z2 .5, x2 0. r2 = .7 wA + (1 - wA) = 1 - .3 wA, x2 = wA,
//       z2 = .5 (1 - wA): r2 first iff wA < 1 / 1.3 = .769.
// P_1 is 1 for wA in {.6, .7} and .5 elsewhere; ranx keeps the last best: (.7, .3).
constexpr std::string_view kOptA =
    "q1 Q0 r1 1 1 A\nq1 Q0 x1 2 0 A\nq2 Q0 x2 1 1 A\nq2 Q0 r2 2 0.7 A\nq2 Q0 z2 3 0 A\n";
constexpr std::string_view kOptB =
    "q1 Q0 x1 1 1 B\nq1 Q0 r1 2 0 B\nq2 Q0 r2 1 1 B\nq2 Q0 z2 2 0.5 B\nq2 Q0 x2 3 0 B\n";
constexpr std::string_view kOptQrels = "q1 0 r1 1\nq2 0 r2 1\n";

TEST(FuseRuns, OptimizeFindsTheWeightsWorkedOutByHand) {
  const AlignedRuns runs = Align({kOptA, kOptB});
  const Qrels qrels = ParseQrels(kOptQrels, "qrels");
  FusionSpec spec;
  spec.method = FusionMethod::kWsum;
  const FusionOptimum best = OptimizeFusion(qrels, runs, spec, "P.1", 0.1);
  EXPECT_EQ(best.candidates, 11u);
  EXPECT_EQ(best.training_queries, 2u);
  EXPECT_EQ(best.score, 1.0);
  EXPECT_EQ(best.spec.weights, (std::vector<double>{0.7, 0.3}));
  // With step .5 the grid is (0, 1), (.5, .5), (1, 0): P_1 .5 each; the last wins.
  const FusionOptimum coarse = OptimizeFusion(qrels, runs, spec, "P.1", 0.5);
  EXPECT_EQ(coarse.candidates, 3u);
  EXPECT_EQ(coarse.score, 0.5);
  EXPECT_EQ(coarse.spec.weights, (std::vector<double>{1, 0}));
  // Three runs at step .5: the compositions of 2 halves into 3 parts, 6 of them.
  const AlignedRuns three = Align({kOptA, kOptB, kOptA});
  EXPECT_EQ(OptimizeFusion(qrels, three, spec, "P.1", 0.5).candidates, 6u);
  // Bad requests.
  EXPECT_THROW(OptimizeFusion(qrels, runs, spec, "P.1,5", 0.1), InvalidInput);  // two values
  EXPECT_THROW(OptimizeFusion(qrels, runs, spec, "P.1", 0.3), InvalidInput);    // does not divide 1
  spec.method = FusionMethod::kCombSum;
  EXPECT_THROW(OptimizeFusion(qrels, runs, spec, "P.1", 0.1), InvalidInput);  // nothing to optimize
  spec.method = FusionMethod::kWsum;
  EXPECT_THROW(OptimizeFusion(ParseQrels("q9 0 r1 1\n", "q"), runs, spec, "P.1", 0.1), InvalidInput);
}

TEST(FuseRuns, OptimizeAParameterGrid) {
  // RRF's k grid is 10, 20, ..., 100 (ranx's). On q2 the fused ranking of r2 (1/(k+2) + 1/(k+1)) is
  // always first, and on q1 r1 and x1 tie for every k (1/(k+1) + 1/(k+2) each), the tie going to x1:
  // P_1 is .5 for every k and the last, 100, is kept.
  const AlignedRuns runs = Align({kOptA, kOptB});
  const Qrels qrels = ParseQrels(kOptQrels, "qrels");
  FusionSpec spec;
  const FusionOptimum best = OptimizeFusion(qrels, runs, spec, "P.1");
  EXPECT_EQ(best.candidates, 10u);
  EXPECT_EQ(best.spec.params.k, 100);
  EXPECT_EQ(best.score, 0.5);
}

// Real data: a run fused with itself keeps its ranking under every method that is monotone in each list's
// score or position, so the fused run's ranking is trec_eval's ranking of the run, document for document
// (the SciFact BM25 run has tied scores, so the docid tie-break is exercised too), and its measures equal
// the run's own (metrics_test checks those against trec_eval's output).
TEST(FuseRuns, SelfFusionOfARealRunKeepsItsRanking) {
  const std::string dir = RLM_SOURCE_DIR "/../shared/data/metric_fixtures/scifact_bm25/";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << dir << " is absent (needs ../shared/data)";
  const trec::Run original = LoadRun(dir + "run.bm25.top100.txt");
  const Qrels qrels = LoadQrels(dir + "qrels.test.trec");
  std::vector<trec::Run> two;
  two.push_back(LoadRun(dir + "run.bm25.top100.txt"));
  two.push_back(LoadRun(dir + "run.bm25.top100.txt"));
  const std::vector<std::string> names = {"a", "b"};
  const AlignedRuns runs = AlignRuns(std::move(two), names);
  const MeasureSet measures = MeasureSet::FromArgs(std::vector<std::string>{"official"});
  const Evaluation want = Evaluate(qrels, original, measures);
  for (const char* method :
       {"rrf", "sum", "mnz", "max", "med", "isr", "rbc", "bordafuse", "condorcet", "wsum"}) {
    for (const char* norm : {"min-max", "zmuv", "rank"}) {
      FusionSpec spec;
      spec.method = FindFusionMethod(method).method;
      spec.norm = FindFusionNorm(norm).norm;
      const trec::Run fused = FuseRuns(runs, spec, nullptr, 0, "self");
      ASSERT_EQ(fused.queries.size(), original.queries.size());
      for (size_t q = 0; q < fused.queries.size(); ++q) {
        std::vector<RunEntry> ranked = original.queries[q].entries;
        RankEntries(ranked);
        ASSERT_EQ(fused.queries[q].entries.size(), ranked.size());
        for (size_t i = 0; i < ranked.size(); ++i) {
          ASSERT_EQ(fused.queries[q].entries[i].docid, ranked[i].docid)
              << method << " " << norm << " query " << original.queries[q].qid << " rank " << i + 1;
        }
      }
      EXPECT_EQ(Evaluate(qrels, fused, measures).summary, want.summary) << method << " " << norm;
    }
  }
}

}  // namespace
}  // namespace rlm::trec
