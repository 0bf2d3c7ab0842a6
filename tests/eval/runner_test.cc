// The evaluation runner: parallel equals sequential, an interrupted run resumes to the same results as an
// uninterrupted one, a run that changes only fusion/depth embeds nothing, chunked variants map back to
// documents.
#include "eval/runner.h"

#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <filesystem>
#include <random>
#include <set>

namespace rlm {
namespace {

namespace fs = std::filesystem;

RunCorpus MakeCorpus() {
  const char* words[] = {"river", "zebra", "lion",  "water", "forest", "tree", "bird",
                         "fish",  "stone", "cloud", "rain",  "sun",    "moon", "star",
                         "grass", "sand",  "wind",  "snow",  "fire",   "leaf"};
  std::mt19937 rng(42);
  RunCorpus c;
  for (int d = 0; d < 200; ++d) {
    std::string text;
    for (int w = 0; w < 40; ++w) text += std::string(words[rng() % 20]) + (w % 9 == 8 ? ".\n\n" : " ");
    c.doc_ids.push_back("d" + std::to_string(d));
    c.doc_texts.push_back(text);
  }
  for (int q = 0; q < 40; ++q) {
    c.query_ids.push_back("q" + std::to_string(q));
    c.query_texts.push_back(std::string(words[q % 20]) + " " + words[(q * 7 + 3) % 20]);
  }
  return c;
}

std::vector<RunVariant> Variants() {
  RunVariant bm25{"bm25", "", {}, "hash", {}};
  bm25.retrieval.depth = 50;
  RunVariant hybrid{"hybrid", "", {}, "hash:64", {}};
  hybrid.retrieval.retrieval = RetrievalKind::kHybrid;
  hybrid.retrieval.depth = 50;
  RunVariant chunked{"chunked-dense", "fixed", {}, "hash:64", {}};
  chunked.chunk.size = 60;
  chunked.chunk.overlap = 0;
  chunked.retrieval.retrieval = RetrievalKind::kDense;
  chunked.retrieval.aggregate = AggregateKind::kSum;
  chunked.retrieval.depth = 30;
  RunVariant mmr{"mmr", "", {}, "hash:64", {}};
  mmr.retrieval.retrieval = RetrievalKind::kHybrid;
  mmr.retrieval.fusion = FusionKind::kWeighted;
  mmr.retrieval.rerank = RerankKind::kMmr;
  mmr.retrieval.depth = 20;
  return {bm25, hybrid, chunked, mmr};
}

fs::path Fresh(const std::string& name) {
  fs::path dir = fs::path(::testing::TempDir()) / ("runner-" + name);
  fs::remove_all(dir);
  return dir;
}

void ExpectSame(const RunOutcome& a, const RunOutcome& b) {
  ASSERT_EQ(a.variants.size(), b.variants.size());
  for (size_t v = 0; v < a.variants.size(); ++v) {
    ASSERT_EQ(a.variants[v].results.size(), b.variants[v].results.size()) << a.variants[v].name;
    for (size_t q = 0; q < a.variants[v].results.size(); ++q) {
      EXPECT_EQ(a.variants[v].results[q].query_id, b.variants[v].results[q].query_id);
      EXPECT_EQ(a.variants[v].results[q].docs, b.variants[v].results[q].docs)
          << a.variants[v].name << " " << a.variants[v].results[q].query_id;
    }
  }
}

TEST(Runner, ParallelEqualsSequentialAndDocumentsAreRanked) {
  const RunCorpus corpus = MakeCorpus();
  RunOptions o{.run_id = "r1", .out_dir = Fresh("par").string()};
  const RunOutcome parallel = RunEvaluation(corpus, Variants(), o);
  RunOutcome sequential;
  {
    tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
    o.out_dir = Fresh("seq").string();
    sequential = RunEvaluation(corpus, Variants(), o);
  }
  ExpectSame(parallel, sequential);
  for (const VariantRun& v : parallel.variants) {
    EXPECT_EQ(v.results.size(), corpus.query_ids.size()) << v.name;
    EXPECT_EQ(v.failed, 0u);
    for (const JobResult& r : v.results) {
      ASSERT_TRUE(r.ok) << r.error;
      ASSERT_FALSE(r.docs.empty()) << v.name << " " << r.query_id;
      for (size_t i = 1; i < r.docs.size(); ++i) EXPECT_FALSE(RanksBefore(r.docs[i], r.docs[i - 1]));
      std::set<uint32_t> unique;
      for (const ScoredDoc& d : r.docs) unique.insert(d.doc);
      EXPECT_EQ(unique.size(), r.docs.size()) << "a document listed twice in " << v.name;
      for (const ScoredDoc& d : r.docs) EXPECT_LT(d.doc, corpus.doc_ids.size());
    }
  }
  EXPECT_GT(parallel.variants[1].vectors_computed, 0u);
}

TEST(Runner, InterruptedRunResumesToTheSameResults) {
  const RunCorpus corpus = MakeCorpus();
  RunOptions whole{.run_id = "r", .out_dir = Fresh("whole").string(), .flush_every = 4};
  const RunOutcome reference = RunEvaluation(corpus, Variants(), whole);

  std::atomic<bool> stop{false};
  RunOptions part{.run_id = "r", .out_dir = Fresh("part").string(), .flush_every = 4, .stop = &stop};
  part.progress = [&](std::string_view phase, uint64_t done, uint64_t) {
    if (phase == "query hybrid" && done >= 10) stop = true;
  };
  const RunOutcome first = RunEvaluation(corpus, Variants(), part);
  EXPECT_TRUE(first.interrupted);
  stop = false;
  part.progress = nullptr;
  const RunOutcome resumed = RunEvaluation(corpus, Variants(), part);
  EXPECT_FALSE(resumed.interrupted);
  EXPECT_EQ(resumed.variants[0].resumed, corpus.query_ids.size());  // bm25 finished before the stop
  EXPECT_GE(resumed.variants[1].resumed, 10u);
  EXPECT_LT(resumed.variants[1].resumed, corpus.query_ids.size());
  ExpectSame(reference, resumed);
}

TEST(Runner, ChangingOnlyFusionOrDepthEmbedsNothing) {
  const RunCorpus corpus = MakeCorpus();
  const std::string dir = Fresh("reuse").string();
  std::vector<RunVariant> v = {Variants()[1]};
  RunOptions o{.run_id = "a", .out_dir = dir};
  const RunOutcome first = RunEvaluation(corpus, v, o);
  EXPECT_GT(first.variants[0].vectors_computed, 0u);
  v[0].retrieval.fusion = FusionKind::kCombMnz;
  v[0].retrieval.depth = 10;
  o.run_id = "b";  // another experiment fingerprint
  const RunOutcome second = RunEvaluation(corpus, v, o);
  EXPECT_EQ(second.variants[0].vectors_computed, 0u);
  EXPECT_EQ(second.variants[0].resumed, 0u);
  EXPECT_EQ(second.variants[0].results.size(), corpus.query_ids.size());
  EXPECT_LE(second.variants[0].results[0].docs.size(), 10u);
}

}  // namespace
}  // namespace rlm
